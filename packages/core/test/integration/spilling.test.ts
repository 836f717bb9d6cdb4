import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ObjectStoreFullError, get, getRuntimeContext, init, put, shutdown, type ObjectRef } from '@weft/core';
import { sumArray } from '../fixtures/basic-tasks.ts';

const MB = 1024 * 1024;
const CAPACITY = 300 * MB;

beforeAll(async () => {
  await init({ numCpus: 1, objectStoreMemory: CAPACITY });
});
afterAll(async () => {
  await shutdown();
});

describe('an object store over its capacity', () => {
  it('spills to disk and gives back, byte for byte, 3x its capacity put in 100 MB objects', async () => {
    const refs: Array<ObjectRef<Float64Array>> = [];
    const sums: number[] = [];
    const checksum = (xs: Float64Array): number => {
      let total = 0;
      for (let k = 0; k < xs.length; k++) total += xs[k] as number * ((k % 7) + 1);
      return total;
    };
    for (let i = 0; i < 9; i++) {
      const values = new Float64Array((100 * MB) / 8);
      for (let k = 0; k < values.length; k += 4096) values[k] = i * 1e6 + k;
      values[values.length - 1] = -i;
      sums.push(checksum(values));
      refs.push(put(values));
    }
    // 900 MB in a store of 300: at least 6 of the objects end up in files of their own, whole
    // (a file grows while it is written: counted once it holds all of the object's bytes).
    const dir = path.join(os.tmpdir(), `weft-spill-${getRuntimeContext().nodeId}`);
    const wholeOnDisk = (): string[] => {
      try {
        return readdirSync(dir).filter((file) => refs.some((ref) => ref.id === file) && statSync(path.join(dir, file)).size >= 100 * MB);
      } catch {
        return [];
      }
    };
    for (let i = 0; i < 400 && wholeOnDisk().length < 6; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(wholeOnDisk().length).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < 9; i++) {
      const back = await get(refs[i] as ObjectRef<Float64Array>);
      expect(back.length).toBe((100 * MB) / 8);
      expect(back[0]).toBe(i * 1e6);
      expect(back[4096 * 7]).toBe(i * 1e6 + 4096 * 7);
      expect(back[back.length - 1]).toBe(-i);
      expect(checksum(back)).toBe(sums[i]);
    }
  }, 120_000);

  it('keeps spilled objects readable by tasks after gets brought them back, however often', async () => {
    const n = (100 * MB) / 8;
    const refs: Array<ObjectRef<Float64Array>> = [];
    for (let i = 0; i < 10; i++) refs.push(put(new Float64Array(n).fill(i + 1)));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) expect((await get(refs[i] as ObjectRef<Float64Array>))[n - 1]).toBe(i + 1);
      // Each read back makes room by spilling others again, while their refs live.
      for (let i = 0; i < 10; i++) expect(await get(sumArray.remote(refs[i] as ObjectRef<Float64Array>))).toBe(n * (i + 1));
    }
  }, 180_000);

  it('removes the spill files of objects whose refs are all gone', async () => {
    const dir = path.join(os.tmpdir(), `weft-spill-${getRuntimeContext().nodeId}`);
    const left = (ids: string[]): string[] => { try { return readdirSync(dir).filter((file) => ids.includes(file)); } catch { return []; } };
    // In a function of its own: a suspended async frame keeps the values its registers last held.
    const ids = await (async () => {
      const refs = Array.from({ length: 6 }, (_, i) => put(new Float64Array((100 * MB) / 8).fill(i)));
      for (const ref of refs) await get(ref);
      const made = refs.map((ref) => ref.id);
      // Spilling runs beside the puts: wait for it to write some of them.
      for (let i = 0; i < 100 && left(made).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(left(made).length).toBeGreaterThan(0);
      return made;
    })();
    await waitForCollection(() => left(ids).length === 0);
    expect(left(ids)).toEqual([]);
  }, 120_000);

  it('names the full store in its error class', () => {
    expect(new ObjectStoreFullError('x').code).toBe('OBJECT_STORE_FULL');
  });
});

/** Collect garbage (the FinalizationRegistry reports dropped refs) until `done()`, for up to 20 s. */
async function waitForCollection(done: () => boolean): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 200 && !done(); i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
