/** Actor names claimed before their actor is placed (a driver's or a worker's `.remote()`). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActorSpec } from '@weft/protocol';
import { ActorRegistry, CLAIM_LAPSE_MS } from '../src/actor-registry.ts';

const spec = (actorId: string, name: string): ActorSpec => ({
  actorId, jobId: 'job-1', cls: { module: 'counter.ts', name: 'Counter' }, args: [], argRefs: [],
  options: { name, placement: {}, resources: {}, maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1 },
} as unknown as ActorSpec);

afterEach(() => {
  vi.useRealTimers();
});

describe('a claimed actor name', () => {
  it('is refused to another actor, and kept by its own on placement', () => {
    const actors = new ActorRegistry();
    expect(actors.claim('shared', 'actor-a')).toBe(true);
    expect(actors.claim('shared', 'actor-b')).toBe(false);
    expect(actors.claim('shared', 'actor-a')).toBe(true);
    actors.placed(spec('actor-a', 'shared'), 'node-1', 'node-1');
    expect(actors.claim('shared', 'actor-b')).toBe(false);
  });

  it('lapses when its actor never came (its driver died between claim and creation), never once it is placed', () => {
    vi.useFakeTimers();
    const actors = new ActorRegistry();
    expect(actors.claim('orphan', 'actor-a')).toBe(true);
    vi.advanceTimersByTime(CLAIM_LAPSE_MS - 1);
    expect(actors.claim('orphan', 'actor-b')).toBe(false);
    vi.advanceTimersByTime(2);
    expect(actors.claim('orphan', 'actor-b')).toBe(true);
    actors.placed(spec('actor-b', 'orphan'), 'node-1', 'node-1');
    vi.advanceTimersByTime(10 * CLAIM_LAPSE_MS);
    expect(actors.claim('orphan', 'actor-c')).toBe(false);
  });

  it('is free again once released by its holder only', () => {
    const actors = new ActorRegistry();
    actors.claim('x', 'actor-a');
    actors.release('x', 'actor-b');
    expect(actors.claim('x', 'actor-b')).toBe(false);
    actors.release('x', 'actor-a');
    expect(actors.claim('x', 'actor-b')).toBe(true);
  });
});
