import { describe, expect, it } from 'vitest';
import { shouldSpill, type SpillInputs } from '../src/spill-policy.ts';

const base: SpillInputs = { placed: false, queued: 10, localCpus: 2, view: { free: 0, cpus: 2, queued: 0 }, spilledSinceView: 0, short: false };

describe('when a queued task is spilled to another node', () => {
  it.each([
    ['not when the head placed it here', { placed: true, view: { free: 4, cpus: 2, queued: 0 } }, false],
    ['not while the queue is within one task per CPU', { queued: 2, view: { free: 4, cpus: 2, queued: 0 } }, false],
    ['not when no other node has CPUs', { view: { free: 0, cpus: 0, queued: 0 } }, false],
    ['when another node reported room not used yet', { view: { free: 2, cpus: 2, queued: 0 }, spilledSinceView: 1, short: true }, true],
    ['a short task not once that room is used', { view: { free: 1, cpus: 2, queued: 0 }, spilledSinceView: 1, short: true }, false],
    ['a long task by the other nodes\' share of the queue', { view: { free: 0, cpus: 2, queued: 0 } }, true],
    ['not past that share', { view: { free: 0, cpus: 2, queued: 10 } }, false],
  ] as Array<[string, Partial<SpillInputs>, boolean]>)('%s', (_, inputs, expected) => {
    expect(shouldSpill({ ...base, ...inputs })).toBe(expected);
  });
});
