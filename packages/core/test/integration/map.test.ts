import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, asCompleted, cancel, get, init, put, shutdown, type MapProgress } from '@weft/core';
import { failsAt, markItem, parentOf, sleepy, square, sumOfSquares, taskOf, weighted } from '../fixtures/map-tasks.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-map-'));

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const marks = (file: string): number[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);

describe('map', () => {
  it('returns the values in input order', async () => {
    const items = Array.from({ length: 1_000 }, (_, i) => i);
    expect(await square.map(items)).toEqual(items.map((x) => x * x));
  });

  it('runs tiny items many to a task under chunkSize auto, and one per task with chunkSize 1', async () => {
    const items = Array.from({ length: 5_000 }, (_, i) => i);
    const auto = new Set(await taskOf.map(items));
    expect(auto.size).toBeLessThan(200);
    const single = new Set(await taskOf.map(items.slice(0, 50), { chunkSize: 1 }));
    expect(single.size).toBe(50);
  });

  it('takes several arguments per call with starmap, and refs among them', async () => {
    const two = put(2);
    expect(await weighted.starmap([[1, 2], [3, 4, 10], [5, two]])).toEqual([3, 34, 7]);
  });

  it('resolves items that are refs before the calls run', async () => {
    const refs = [put(3), put(4)];
    expect(await square.map(refs)).toEqual([9, 16]);
  });

  it('takes any iterable, also async and unbounded ones, within its window', async () => {
    let produced = 0;
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 0; i < 100_000; i++) {
        produced += 1;
        yield i;
      }
    }
    let consumed = 0;
    let ahead = 0;
    for await (const value of square.imap(numbers(), { maxInFlight: 2 })) {
      expect(value).toBe(consumed * consumed);
      consumed += 1;
      ahead = Math.max(ahead, produced - consumed);
    }
    expect(consumed).toBe(100_000);
    // Never more than the window of chunks taken from the input ahead of what was consumed.
    expect(ahead).toBeLessThanOrEqual(2 * 10_000);
  }, 60_000);

  it('gives values as they finish with imapUnordered', async () => {
    const order: number[] = [];
    for await (const ms of sleepy.imapUnordered([400, 10, 200], { chunkSize: 1 })) order.push(ms);
    expect(order).toEqual([10, 200, 400]);
    const inOrder: number[] = [];
    for await (const ms of sleepy.imap([300, 10, 100], { chunkSize: 1 })) inOrder.push(ms);
    expect(inOrder).toEqual([300, 10, 100]);
  });

  it('rejects with the TaskError of a failed item, naming its index', async () => {
    const error = await failsAt.starmap(Array.from({ length: 40 }, (_, i) => [i, 17]), { chunkSize: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as Error).message).toMatch(/item 17: bad item 17/);
  });

  it('cancels the rest of a map that failed', async () => {
    const file = path.join(dir, 'fail-fast');
    const items = [{ x: 0, ms: 0, file, fail: true }, ...Array.from({ length: 20 }, (_, i) => ({ x: i + 1, ms: 500, file }))];
    await expect(markItem.map(items, { chunkSize: 1, maxInFlight: 4 })).rejects.toThrow(/item 0: item 0 fails/);
    // The items in flight were cancelled before their 500 ms, the others never submitted.
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(marks(file)).toEqual([]);
  });

  it('cancels what is left when a loop over imap ends early', async () => {
    const file = path.join(dir, 'break');
    const items = [{ x: 0, ms: 0, file }, { x: 1, ms: 0, file }, ...Array.from({ length: 8 }, (_, i) => ({ x: i + 2, ms: 500, file }))];
    let seen = 0;
    for await (const x of markItem.imap(items, { chunkSize: 1, maxInFlight: 2 })) {
      expect(x).toBe(seen);
      seen += 1;
      if (seen === 2) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(marks(file).sort()).toEqual([0, 1]);
  });

  it('reports its progress to a function: done, total, failed, times', async () => {
    const seen: MapProgress[] = [];
    await square.map(Array.from({ length: 300 }, (_, i) => i), { progress: (p) => seen.push(p) });
    const last = seen.at(-1) as MapProgress;
    expect(last.done).toBe(300);
    expect(last.total).toBe(300);
    expect(last.failed).toBe(0);
    expect(last.etaMs).toBe(0);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
  });

  it('nests: an outer map whose items run inner maps, more of them than CPUs, without deadlock', async () => {
    const ns = Array.from({ length: 6 }, (_, i) => i + 3);
    expect(await sumOfSquares.map(ns, { chunkSize: 1 })).toEqual(ns.map((n) => ((n - 1) * n * (2 * n - 1)) / 6));
  }, 30_000);

  it('refuses bad options, naming them', async () => {
    await expect(square.map([1], { chunkSize: 0 })).rejects.toThrow(/chunkSize/);
    await expect(square.map([1], { maxInFlight: 1.5 })).rejects.toThrow(/maxInFlight/);
    await expect(weighted.starmap([[1, 2], 3] as never)).rejects.toThrow(/item 1 is not an array/);
  });
});

describe('asCompleted', () => {
  it('gives the refs in the order their tasks finish', async () => {
    // Two CPUs: the third starts once the 10 ms one is done, and ends long before the first (with
    // room for a worker to start on a loaded machine).
    const refs = [sleepy.remote(2_000), sleepy.remote(10), sleepy.remote(300)];
    const order: number[] = [];
    for await (const ref of asCompleted(refs)) order.push(await get(ref));
    expect(order).toEqual([10, 300, 2_000]);
  });
});

/** Resolves once parentOf has submitted its child (it writes `file`.submitted). */
async function submitted(file: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(`${file}.submitted`); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(existsSync(`${file}.submitted`)).toBe(true);
}

describe('cancel', () => {
  it('cancels the tasks a cancelled task submitted too, by default', async () => {
    const file = path.join(dir, 'recursive');
    const parent = parentOf.remote(600, file);
    await submitted(file);
    await cancel(parent);
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(marks(file)).toEqual([]);
  });

  it('leaves them running with recursive: false', async () => {
    const file = path.join(dir, 'not-recursive');
    const parent = parentOf.remote(600, file);
    await submitted(file);
    await cancel(parent, { recursive: false });
    for (let i = 0; i < 50 && marks(file).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(marks(file)).toEqual([1]);
  });
});
