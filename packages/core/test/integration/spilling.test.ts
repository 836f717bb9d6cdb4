import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectStoreFullError, get, init, put, shutdown, type ObjectRef } from '@weft/core';

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
    for (let i = 0; i < 9; i++) {
      const back = await get(refs[i] as ObjectRef<Float64Array>);
      expect(back.length).toBe((100 * MB) / 8);
      expect(back[0]).toBe(i * 1e6);
      expect(back[4096 * 7]).toBe(i * 1e6 + 4096 * 7);
      expect(back[back.length - 1]).toBe(-i);
      expect(checksum(back)).toBe(sums[i]);
    }
  }, 120_000);

  it('names the full store in its error class', () => {
    expect(new ObjectStoreFullError('x').code).toBe('OBJECT_STORE_FULL');
  });
});
