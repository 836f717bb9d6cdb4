/**
 * Streaming generators on the embedded cluster (Ray's ObjectRefGenerator): a remote
 * `async function*` or `function*` returns a generator of refs, one per value it yields, each
 * usable before the task ends.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ObjectRef, ObjectRefGenerator, TaskCancelledError, TaskError, WorkerCrashedError, cancel, get, init, shutdown,
} from '@weft/core';
import { add, sumArray } from '../fixtures/basic-tasks.ts';
import { attemptsIn } from '../fixtures/attempts.ts';
import {
  bigArrays, countTo, crashAfterYield, crashBeforeYield, doubled, endless, failAfterThree, sumOfStream, yieldThenWait,
} from '../fixtures/streaming-generators.ts';
import { rejectionOf } from '../support/outcome.ts';

const SIGNAL_TIMEOUT_MS = 20_000;
/** 2 MiB: stored in shared memory, and over a cluster sent by location, not inline. */
const BIG = 262_144;

let tmp: string;
let files = 0;
const tmpFile = (name: string): string => path.join(tmp, `${name}-${++files}`);

/** The values behind every ref the generator yields, in order. */
async function valuesOf<T>(gen: ObjectRefGenerator<T>): Promise<T[]> {
  const values: T[] = [];
  for await (const ref of gen) values.push(await get(ref));
  return values;
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-streaming-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a remote generator', () => {
  it('returns an ObjectRefGenerator whose refs hold the yielded values in order, and completed() holds their count', async () => {
    const gen: ObjectRefGenerator<number> = countTo.remote(50);
    expect(gen).toBeInstanceOf(ObjectRefGenerator);
    expect(await valuesOf(gen)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await get(gen.completed())).toBe(50);
  });

  it('streams the values of a sync function* too', async () => {
    expect(await valuesOf(doubled.remote([1, 2, 3]))).toEqual([2, 4, 6]);
  });

  it('hands out a ref before the task ends: the generator goes on only once the test has read the first value', async () => {
    const signal = tmpFile('go');
    const gen = yieldThenWait.remote(signal, SIGNAL_TIMEOUT_MS);
    const first = await gen.next();
    expect(first.done).toBe(false);
    expect(first.value).toBeInstanceOf(ObjectRef);
    expect(await get(first.value as ObjectRef<string>)).toBe('first');
    // The task is still running: it waits for this file.
    writeFileSync(signal, '');
    const second = await gen.next();
    expect(await get(second.value as ObjectRef<string>)).toBe('second');
    expect(await gen.next()).toEqual({ done: true, value: undefined });
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });

  it('answers next() calls made at once in order, as an async generator does', async () => {
    const gen = countTo.remote(3);
    const results = await Promise.all([gen.next(), gen.next(), gen.next(), gen.next()]);
    expect(results.map((result) => result.done)).toEqual([false, false, false, true]);
    expect(await get(results.slice(0, 3).map((result) => result.value as ObjectRef<number>))).toEqual([0, 1, 2]);
  });

  it('yields large values (2 MiB each) that read back whole', async () => {
    const arrays = await valuesOf(bigArrays.remote(3, BIG));
    expect(arrays.map((xs) => [xs.length, xs[0], xs[BIG - 1]])).toEqual([[BIG, 0, 0], [BIG, 1, 1], [BIG, 2, 2]]);
  });

  it('gives the refs yielded before an error, then ends the iteration with its TaskError', async () => {
    const gen = failAfterThree.remote();
    const refs: Array<ObjectRef<number>> = [];
    const error = await rejectionOf((async () => {
      for await (const ref of gen) refs.push(ref);
    })());
    expect(refs).toHaveLength(3);
    expect(await get(refs)).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(TaskError);
    expect(error.message).toContain('there is no fourth value');
    expect((error as TaskError).cause).toBe('RangeError');
    expect((error as TaskError).taskName).toBe('failAfterThree');
    expect(await gen.next()).toEqual({ done: true, value: undefined });
    expect(await rejectionOf(get(gen.completed()))).toBeInstanceOf(TaskError);
  });

  it('cancels the task when a for await loop is left early: its CPUs come back and it yields no more', async () => {
    const progress = tmpFile('progress');
    const gen = endless.remote(progress);
    const seen: number[] = [];
    for await (const ref of gen) {
      seen.push(await get(ref));
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(await rejectionOf(get(gen.completed()))).toBeInstanceOf(TaskCancelledError);
    // The generator held both CPUs: a task that needs one runs only because it was stopped.
    expect(await get(add.remote(1, 2), { timeoutMs: 10_000 })).toBe(3);
    const last = Number(readFileSync(progress, 'utf8'));
    expect(await get(add.remote(3, 4), { timeoutMs: 10_000 })).toBe(7);
    expect(Number(readFileSync(progress, 'utf8'))).toBe(last);
  });

  it('stops the task on cancel(): the iteration ends with TaskCancelledError after the refs yielded before', async () => {
    const signal = tmpFile('never');
    const gen = yieldThenWait.remote(signal, SIGNAL_TIMEOUT_MS);
    const first = await gen.next();
    await gen.cancel();
    expect(await get(first.value as ObjectRef<string>)).toBe('first');
    expect(await rejectionOf(gen.next())).toBeInstanceOf(TaskCancelledError);
    expect(await gen.next()).toEqual({ done: true, value: undefined });
  });

  it('is stopped by cancel(gen) as by gen.cancel()', async () => {
    const gen = yieldThenWait.remote(tmpFile('never-2'), SIGNAL_TIMEOUT_MS);
    const first = await gen.next();
    await cancel(gen);
    expect(await get(first.value as ObjectRef<string>)).toBe('first');
    expect(await rejectionOf(gen.next())).toBeInstanceOf(TaskCancelledError);
    expect(await rejectionOf(get(gen.completed()))).toBeInstanceOf(TaskCancelledError);
  });

  it('yields refs that can be passed to other tasks', async () => {
    const refs: Array<ObjectRef<number>> = [];
    for await (const ref of countTo.remote(4)) refs.push(ref);
    expect(await get(refs.map((ref) => add.remote(ref, 10)))).toEqual([10, 11, 12, 13]);
    const [big] = await (async () => {
      const out: Array<ObjectRef<Float64Array>> = [];
      for await (const ref of bigArrays.remote(1, BIG)) out.push(ref);
      return out;
    })();
    expect(await get(sumArray.remote(big as ObjectRef<Float64Array>))).toBe(0);
  });

  it('can be read inside a task, which lends its CPU while it waits for the next value', async () => {
    expect(await get(sumOfStream.remote(20))).toBe(190);
  });

  it('is retried after a worker crash when it had yielded nothing yet', async () => {
    const counter = tmpFile('attempts');
    expect(await valuesOf(crashBeforeYield.remote(counter))).toEqual(['a', 'b']);
    expect(attemptsIn(counter)).toBe(2);
  });

  it('is not retried after a worker crash once it had yielded: the iteration ends with WorkerCrashedError', async () => {
    const counter = tmpFile('attempts');
    const signal = tmpFile('crash');
    const gen = crashAfterYield.remote(counter, signal, SIGNAL_TIMEOUT_MS);
    const first = await gen.next();
    expect(await get(first.value as ObjectRef<string>)).toBe('a');
    writeFileSync(signal, '');
    const error = await rejectionOf(gen.next());
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toContain('yielded');
    expect(attemptsIn(counter)).toBe(1);
    // The value yielded before the crash stays readable.
    expect(await get(first.value as ObjectRef<string>)).toBe('a');
  });
});
