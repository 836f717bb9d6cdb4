import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetTimeoutError, TaskCancelledError, cancel, get, init, shutdown, wait } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { passThrough } from '../fixtures/throwing-task.ts';
import { meet } from '../fixtures/rendezvous.ts';
import { busyLoop, sleepThenReturn } from '../fixtures/slow-task.ts';
import { touch } from '../fixtures/tiny-task.ts';
import { rejectionOf, timedRejectionOf } from '../support/outcome.ts';
import { started } from '../support/markers.ts';

/** Long enough that a test passing on time proves the task did not run to its end. */
const LONG_MS = 30_000;

let tmp: string;
let markers = 0;
const markerFile = (): string => path.join(tmp, `started-${++markers}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-cancel-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('cancel', () => {
  it('makes get of a running busy-looping task reject with TaskCancelledError at once', async () => {
    const marker = markerFile();
    const ref = busyLoop.remote(LONG_MS, marker);
    const pending = rejectionOf(get(ref));
    await started(marker);
    const start = performance.now();
    await cancel(ref);
    const error = await pending;
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(error.code).toBe('TASK_CANCELLED');
    expect(performance.now() - start).toBeLessThan(2000);
  });

  it('makes get of a running sleeping task reject with TaskCancelledError at once', async () => {
    const marker = markerFile();
    const ref = sleepThenReturn.remote(LONG_MS, 'never', marker);
    await started(marker);
    await cancel(ref);
    const { error, ms } = await timedRejectionOf(get(ref));
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(ms).toBeLessThan(2000);
  });

  it('cancels a queued task without ever running it, and the cluster keeps running tasks', async () => {
    const [first, second] = [markerFile(), markerFile()];
    const blockers = [sleepThenReturn.remote(LONG_MS, 'a', first), sleepThenReturn.remote(LONG_MS, 'b', second)];
    await Promise.all([started(first), started(second)]);
    // Both CPUs are taken: this one waits in the queue.
    const queuedMarker = markerFile();
    const queued = sleepThenReturn.remote(10, 'queued', queuedMarker);
    await cancel(queued);
    const { error, ms } = await timedRejectionOf(get(queued));
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(ms).toBeLessThan(1000);
    for (const ref of blockers) await cancel(ref);
    expect(await get([add.remote(1, 2), add.remote(3, 4), add.remote(5, 6)])).toEqual([3, 7, 11]);
    // The queue is first in, first out: had the cancelled task stayed queued, it would have run before these.
    expect(existsSync(queuedMarker)).toBe(false);
  });

  it('cancels a tiny task queued while both CPUs are busy, and the tasks queued beside it still run', async () => {
    // Tiny by now in this node's eyes (many fast runs), so they may be sent ahead to busy workers.
    await get(Array.from({ length: 200 }, (_, i) => touch.remote(i)));
    const [first, second] = [markerFile(), markerFile()];
    const blockers = [sleepThenReturn.remote(LONG_MS, 'a', first), sleepThenReturn.remote(LONG_MS, 'b', second)];
    await Promise.all([started(first), started(second)]);
    const marks = Array.from({ length: 6 }, () => markerFile());
    const queued = marks.map((mark, i) => touch.remote(i, mark));
    const victim = queued[2] as (typeof queued)[number];
    await cancel(victim);
    const { error, ms } = await timedRejectionOf(get(victim));
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(ms).toBeLessThan(1000);
    for (const ref of blockers) await cancel(ref);
    expect(await get(queued.filter((ref) => ref !== victim))).toEqual([0, 1, 3, 4, 5]);
    expect(existsSync(marks[2] as string)).toBe(false);
  });

  it('cancels a task waiting for its dependency and fails what depends on it with TaskCancelledError', async () => {
    const marker = markerFile();
    const slow = sleepThenReturn.remote(LONG_MS, 1, marker);
    const waiting = passThrough.remote(slow);
    const downstream = passThrough.remote(waiting);
    await cancel(waiting);
    expect(await rejectionOf(get(waiting))).toBeInstanceOf(TaskCancelledError);
    expect(await rejectionOf(get(downstream))).toBeInstanceOf(TaskCancelledError);
    await cancel(slow);
  });

  it('leaves a finished task\'s value alone', async () => {
    const ref = add.remote(20, 22);
    expect(await get(ref)).toBe(42);
    await cancel(ref);
    expect(await get(ref)).toBe(42);
  });

  it('keeps the cluster running tasks, two at once on its two CPUs, after cancelling running tasks', async () => {
    const refs = Array.from({ length: 10 }, (_, i) => add.remote(i, 100));
    expect(await get(refs)).toEqual(Array.from({ length: 10 }, (_, i) => i + 100));
    const dir = path.join(tmp, `meet-${++markers}`);
    mkdirSync(dir);
    expect(await get([meet.remote(dir, 'a', 2, 10_000), meet.remote(dir, 'b', 2, 10_000)])).toEqual([2, 2]);
  });
});

describe('get with a timeout', () => {
  it('rejects with GetTimeoutError when the task is slower, and a later get still returns the value', async () => {
    const ref = sleepThenReturn.remote(500, 'late');
    const { error, ms } = await timedRejectionOf(get(ref, { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(GetTimeoutError);
    expect(error.code).toBe('GET_TIMEOUT');
    expect(ms).toBeLessThan(450);
    expect(await get(ref)).toBe('late');
  });

  it('returns the value when the task finishes within the timeout', async () => {
    expect(await get(add.remote(2, 3), { timeoutMs: 10_000 })).toBe(5);
  });
});

describe('wait with a timeout', () => {
  it('returns what is ready when the time runs out', async () => {
    const fast = add.remote(1, 1);
    await get(fast);
    const slow = sleepThenReturn.remote(LONG_MS, 'slow');
    const start = performance.now();
    const { ready, pending } = await wait([slow, fast], { numReturns: 2, timeoutMs: 150 });
    const ms = performance.now() - start;
    expect(ready).toEqual([fast]);
    expect(pending).toEqual([slow]);
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(2000);
    await cancel(slow);
  });

  it('returns an empty ready list when nothing is ready when the time runs out', async () => {
    const slow = sleepThenReturn.remote(LONG_MS, 'slow');
    const { ready, pending } = await wait([slow], { numReturns: 1, timeoutMs: 50 });
    expect(ready).toEqual([]);
    expect(pending).toEqual([slow]);
    await cancel(slow);
  });
});
