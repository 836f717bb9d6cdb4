import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, WorkerCrashedError, cancel, get, init, shutdown } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { attemptsIn } from '../fixtures/attempts.ts';
import { crashUntilAttempt, exitAfter, type CrashMode } from '../fixtures/crash-worker.ts';
import { crashWhileWaiting } from '../fixtures/crash-while-waiting.ts';
import { followPlan } from '../fixtures/flaky-task.ts';
import { meet } from '../fixtures/rendezvous.ts';
import { sleepThenReturn } from '../fixtures/slow-task.ts';
import { touch } from '../fixtures/tiny-task.ts';
import { rejectionOf } from '../support/outcome.ts';
import { started } from '../support/markers.ts';

let tmp: string;
let counters = 0;
const counterFile = (): string => path.join(tmp, `attempts-${++counters}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-worker-crash-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

const ways: Array<{ mode: CrashMode; how: string; cause: RegExp }> = [
  { mode: 'exit', how: 'calls process.exit(1)', cause: /exited with code 1/ },
  { mode: 'timer-throw', how: 'throws an uncaught error in a setTimeout callback', cause: /uncaught timer error/ },
];

describe.each(ways)('a worker whose task $how', ({ mode, cause }) => {
  it('is replaced and the task retried until it succeeds', async () => {
    const file = counterFile();
    // Dies on attempts 1 and 2; the default maxRetries (3) allows a third.
    expect(await get(crashUntilAttempt.remote(file, mode, 2))).toBe(3);
    expect(attemptsIn(file)).toBe(3);
  });

  it('fails the task with WorkerCrashedError once maxRetries is spent', async () => {
    const file = counterFile();
    const error = await rejectionOf(get(crashUntilAttempt.options({ maxRetries: 1 }).remote(file, mode, 1000)));
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.code).toBe('WORKER_CRASHED');
    expect(error.message).toContain('crashUntilAttempt');
    expect(error.message).toMatch(cause);
    // The first attempt and one retry.
    expect(attemptsIn(file)).toBe(2);
  });

  it('does not retry at all with maxRetries: 0', async () => {
    const file = counterFile();
    const error = await rejectionOf(get(crashUntilAttempt.options({ maxRetries: 0 }).remote(file, mode, 1000)));
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(attemptsIn(file)).toBe(1);
  });

  it('leaves the cluster running new tasks, two at once on its two CPUs', async () => {
    const refs = Array.from({ length: 8 }, (_, i) => add.remote(i, 1));
    expect(await get(refs)).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
    const dir = path.join(tmp, `meet-${++counters}`);
    mkdirSync(dir);
    expect(await get([meet.remote(dir, 'a', 2, 10_000), meet.remote(dir, 'b', 2, 10_000)])).toEqual([2, 2]);
  });
});

describe('crashes beside healthy tasks', () => {
  it('does not disturb tasks running in other workers while one worker crashes', async () => {
    const file = counterFile();
    const crashing = crashUntilAttempt.remote(file, 'exit', 1);
    const healthy = Array.from({ length: 20 }, (_, i) => add.remote(i, i));
    expect(await get(healthy)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i));
    expect(await get(crashing)).toBe(2);
  });

  it('runs, without charging them, the tasks queued while both workers were busy with tasks that crash them', async () => {
    // Tiny by now in this node's eyes (many fast runs), so they may be sent ahead to busy workers.
    await get(Array.from({ length: 200 }, (_, i) => touch.remote(i)));
    const markers = [path.join(tmp, `crasher-${++counters}`), path.join(tmp, `crasher-${++counters}`)];
    const crashers = markers.map((marker) => exitAfter.options({ maxRetries: 0 }).remote(300, marker));
    await Promise.all(markers.map(started));
    // maxRetries: 0, so a queued task wrongly charged for the crash would fail.
    const queued = Array.from({ length: 10 }, (_, i) => touch.options({ maxRetries: 0 }).remote(i));
    expect(await get(queued)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    for (const crasher of crashers) expect(await rejectionOf(get(crasher))).toBeInstanceOf(WorkerCrashedError);
  });
});

describe('the retry budget', () => {
  it('charges a task whose worker dies while it waits in get, and fails it after maxRetries', async () => {
    const file = counterFile();
    // Nested, so the task starts at once and then blocks in get on it.
    const slow = sleepThenReturn.remote(30_000, 'slow');
    const ref = crashWhileWaiting.options({ maxRetries: 1 }).remote(file, { ref: slow });
    try {
      // Two attempts take about a second; the bound keeps an endless crash loop from hanging the file.
      const error = await rejectionOf(get(ref, { timeoutMs: 5000 }));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(attemptsIn(file)).toBe(2);
    } finally {
      await cancel(ref);
      await cancel(slow);
    }
  });

  it('counts worker crashes and retried exceptions against one maxRetries budget', async () => {
    const file = counterFile();
    // maxRetries: 1 allows two attempts in all: the crash uses the only retry, so the exception is final.
    const ref = followPlan.options({ maxRetries: 1, retryExceptions: true }).remote(file, ['exit', 'throw', 'return']);
    const error = await rejectionOf(get(ref));
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).remoteMessage).toBe('planned failure on attempt 2');
    expect(attemptsIn(file)).toBe(2);
  });
});
