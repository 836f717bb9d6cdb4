import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Memory, TaskError, get, init, put, shutdown } from '@weft/core';
import { loggedFailure, loggedSeries, loggedSquare, squareThroughCache, total } from '../fixtures/memory-tasks.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'weft-memory-it-'));
let dir: string;
let log: string;
let memory: InstanceType<typeof Memory>;
let case_ = 0;

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  case_ += 1;
  dir = path.join(root, `cache-${case_}`);
  log = path.join(root, `log-${case_}`);
  memory = new Memory(dir);
});

/** The calls that ran, as their tasks logged them. */
const ran = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
const entryFiles = (): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.weft'));

describe('Memory on an embedded cluster', () => {
  it('runs a call once: the same arguments again get the cached value without a task', async () => {
    const square = memory.cache(loggedSquare);
    expect(await get(square.remote(log, 7))).toBe(49);
    await memory.flush();
    expect(entryFiles()).toHaveLength(1);
    expect(await get(square.remote(log, 7))).toBe(49);
    expect(await get(square.options({ numCpus: 0.5 }).remote(log, 7))).toBe(49);
    // A new Memory on the folder (the next run of a script) finds it too.
    expect(await get(new Memory(dir).cache(loggedSquare).remote(log, 7))).toBe(49);
    expect(ran()).toEqual(['7']);
    expect(memory.stats).toEqual({ hits: 2, misses: 1 });
  });

  it('looks every item of a map up: a second map over the same items runs no task, a map over more runs only the new ones', async () => {
    const square = memory.cache(loggedSquare);
    const first = Array.from({ length: 40 }, (_, i) => [log, i] as [string, number]);
    expect(await square.starmap(first)).toEqual(first.map(([, x]) => x * x));
    await memory.flush();
    expect(ran()).toHaveLength(40);
    const more = Array.from({ length: 60 }, (_, i) => [log, i] as [string, number]);
    expect(await square.starmap(more, { chunkSize: 7 })).toEqual(more.map(([, x]) => x * x));
    await memory.flush();
    expect(ran().map(Number).sort((a, b) => a - b)).toEqual([...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => 40 + i)]);
    // Through options(...) too: all hits now.
    expect(await memory.cache(loggedSquare).options({ numCpus: 0.5 }).starmap(more)).toEqual(more.map(([, x]) => x * x));
    expect(ran()).toHaveLength(60);
  });

  it('runs again for other arguments, and after clear()', async () => {
    const square = memory.cache(loggedSquare);
    expect(await get([square.remote(log, 1), square.remote(log, 2)])).toEqual([1, 4]);
    await memory.flush();
    expect(await get([square.remote(log, 1), square.remote(log, 2), square.remote(log, 3)])).toEqual([1, 4, 9]);
    expect(ran().sort()).toEqual(['1', '2', '3']);
    await memory.flush();
    memory.clear();
    expect(entryFiles()).toEqual([]);
    expect(await get(square.remote(log, 1))).toBe(1);
    expect(ran().sort()).toEqual(['1', '1', '2', '3']);
  });

  it('serves a cached 10 MB Float64Array as a view of the buffer the file was read into, usable as an argument', async () => {
    const series = memory.cache(loggedSeries);
    const n = 1_250_000;
    const first = await get(series.remote(log, n, 2.5));
    await memory.flush();
    const [file] = entryFiles();
    const size = statSync(path.join(dir, file as string)).size;
    expect(size).toBeGreaterThan(n * 8);
    const ref = series.remote(log, n, 2.5);
    const hit = await get(ref);
    expect(ran()).toEqual(['2.5']);
    // (Bytes compared as Buffers: a deep equality of 1.25 M elements takes vitest seconds.)
    const bytes = (xs: ArrayBufferView): Buffer => Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength);
    expect(hit.xs).toBeInstanceOf(Float64Array);
    expect(bytes(hit.xs).equals(bytes(first.xs))).toBe(true);
    expect({ ...hit, xs: null }).toEqual({ ...first, xs: null });
    // One buffer holds the whole file; the arrays are views of it, not copies.
    expect(hit.xs.buffer.byteLength).toBeGreaterThanOrEqual(size);
    expect(hit.ids.buffer).toBe(hit.xs.buffer);
    expect(await get(total.remote(ref))).toBe(2.5 * n);
  });

  it('does not cache errors', async () => {
    const failing = memory.cache(loggedFailure);
    for (let i = 0; i < 2; i++) {
      await expect(get(failing.remote(log, 5))).rejects.toThrow(TaskError);
      await memory.flush();
    }
    expect(ran()).toEqual(['5', '5']);
    expect(entryFiles()).toEqual([]);
  });

  it('refuses ObjectRef arguments at the call, with a TypeError', () => {
    const square = memory.cache(loggedSquare);
    expect(() => square.remote(log, put(3))).toThrow(/argument 1 is an ObjectRef.*pass the value itself/);
    expect(ran()).toEqual([]);
  });

  it('is bypassed inside a task: the call runs every time there, and the worker writes no entry', async () => {
    for (let i = 0; i < 2; i++) expect(await get(squareThroughCache.remote(dir, log, 6))).toBe(36);
    expect(ran()).toEqual(['6', '6']);
    expect(entryFiles()).toEqual([]);
  });

  it('maps a cached function to the right values', async () => {
    const square = memory.cache(loggedSquare);
    expect(await square.starmap([[log, 2], [log, 3]])).toEqual([4, 9]);
  });
});
