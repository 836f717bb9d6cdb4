import { describe, expect, it } from 'vitest';
import { exitStatusOf } from '../src/job.ts';

describe('exitStatusOf', () => {
  it.each([
    [{ state: 'SUCCEEDED', exitCode: 0 }, 0],
    [{ state: 'FAILED', exitCode: 7 }, 7],
    [{ state: 'FAILED', signal: 'SIGKILL' }, 137],
    [{ state: 'STOPPED', signal: 'SIGTERM' }, 143],
    [{ state: 'STOPPED', exitCode: 0 }, 1],
    [{ state: 'FAILED' }, 1],
  ] as const)('maps %o to exit status %i, as a shell reports it', (job, expected) => {
    expect(exitStatusOf(job)).toBe(expected);
  });
});
