import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerCrashedError, get, init, shutdown } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { attemptsIn } from '../fixtures/attempts.ts';
import { exhaustHeapUntilAttempt } from '../fixtures/memory-hog.ts';
import { meet } from '../fixtures/rendezvous.ts';
import { rejectionOf } from '../support/outcome.ts';

let tmp: string;
let counters = 0;
const counterFile = (): string => path.join(tmp, `attempts-${++counters}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-worker-oom-'));
  await init({ numCpus: 2, workerHeapLimitMb: 64 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a worker whose task exceeds the heap limit', () => {
  it('is replaced and the task retried until it succeeds', async () => {
    const file = counterFile();
    expect(await get(exhaustHeapUntilAttempt.remote(file, 1))).toBe(2);
    expect(attemptsIn(file)).toBe(2);
  });

  it('fails the task with WorkerCrashedError that says it ran out of memory once maxRetries is spent', async () => {
    const file = counterFile();
    const error = await rejectionOf(get(exhaustHeapUntilAttempt.options({ maxRetries: 1 }).remote(file, 1000)));
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.code).toBe('WORKER_CRASHED');
    expect(error.message).toMatch(/out of memory/);
    expect(attemptsIn(file)).toBe(2);
  });

  it('leaves the driver and the cluster running new tasks, two at once on its two CPUs', async () => {
    const refs = Array.from({ length: 8 }, (_, i) => add.remote(i, 1));
    expect(await get(refs)).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
    const dir = path.join(tmp, `meet-${++counters}`);
    mkdirSync(dir);
    expect(await get([meet.remote(dir, 'a', 2, 10_000), meet.remote(dir, 'b', 2, 10_000)])).toEqual([2, 2]);
  });
});
