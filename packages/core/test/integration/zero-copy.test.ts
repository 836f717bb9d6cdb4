import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alloc, get, init, put, shutdown } from '@weft/core';
import { inspectArray, makeBig, scribble } from '../fixtures/shared-memory.ts';

const N = 12_500_000; // 100 MB of float64

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

describe('large objects in shared memory', () => {
  it('gives a task and the driver views of one copy of a 100 MB Float64Array', async () => {
    const source = new Float64Array(N);
    source[0] = 1;
    const ref = put(source);
    source[0] = 99; // put copied once: later changes to the source do not reach the object
    const seen = await get(inspectArray.remote(ref));
    expect(seen).toEqual({ shared: true, length: N, first: 1 });

    const a = await get(ref);
    const b = await get(ref);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.length).toBe(N);
    // Two gets are two views of the same memory, not two copies.
    expect(a.buffer).toBe(b.buffer);
    // A task writing through its view (breaking immutability on purpose) changes what the driver
    // sees: the task's argument was the very memory the driver reads, not a copy.
    expect(await get(scribble.remote(ref, 7))).toBe(true);
    expect(a[0]).toBe(7);
  });

  it('stores an array built with alloc without copying it: the task, the driver\'s get and the array are one memory', async () => {
    const built = alloc(Float64Array, N);
    built[0] = 3;
    built[N - 1] = 4;
    const ref = put(built);
    const back = await get(ref);
    expect(back.buffer).toBe(built.buffer);
    expect(back.byteOffset).toBe(built.byteOffset);
    expect(await get(inspectArray.remote(ref))).toEqual({ shared: true, length: N, first: 3 });
    // One memory: what a task writes through its view is in the caller's array.
    expect(await get(scribble.remote(ref, 8))).toBe(true);
    expect(built[0]).toBe(8);
    // A second put of it copies (the memory is the first object's): later writes do not reach that copy.
    const again = put(built);
    built[0] = 9;
    expect((await get(again))[0]).toBe(8);
    expect((await get(again))[N - 1]).toBe(4);
  });

  it('returns a large task result to the driver as a view of shared memory', async () => {
    const big = await get(makeBig.remote(N));
    expect(big.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(big.length).toBe(N);
    expect(big[N - 1]).toBe(2);
  });
});
