import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown } from '@weft/core';
import { Gathering, SyncRecorder } from '../fixtures/overlap-actors.ts';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

// How long a gathering call waits for the others before giving up: far longer than the calls
// need when they may overlap, so a timeout shows they could not.
const MEET_TIMEOUT_MS = 5_000;

describe('concurrency of actor calls', () => {
  it('never overlaps async methods with maxConcurrency: 1', async () => {
    const a = Gathering.options({ maxConcurrency: 1 }).remote();
    // Each call stays 20 ms: a second call let in meanwhile would raise the peak to 2.
    const peaks = await get(Array.from({ length: 4 }, () => a.gather.remote(1, 20, MEET_TIMEOUT_MS)));
    expect(peaks).toEqual([1, 1, 1, 1]);
    expect(await get(a.peakSeen.remote())).toBe(1);
  });

  it('overlaps async methods up to maxConcurrency and never more', async () => {
    const a = Gathering.options({ maxConcurrency: 4 }).remote();
    // Each call waits until 4 run at once, then stays 50 ms more: a fifth call let in early
    // would raise the peak above 4.
    const peaks = await get(Array.from({ length: 8 }, () => a.gather.remote(4, 50, MEET_TIMEOUT_MS)));
    expect(peaks).toEqual(Array.from({ length: 8 }, () => 4));
    expect(await get(a.peakSeen.remote())).toBe(4);
  });

  it('lets the async methods of a class overlap by default (maxConcurrency 1000, as in Ray)', async () => {
    const a = Gathering.remote();
    const peaks = await get(Array.from({ length: 8 }, () => a.gather.remote(8, 0, MEET_TIMEOUT_MS)));
    expect(peaks).toEqual(Array.from({ length: 8 }, () => 8));
  });

  it('runs sync methods one at a time even when async ones may overlap', async () => {
    const a = SyncRecorder.options({ maxConcurrency: 4 }).remote();
    const refs = [];
    for (let i = 0; i < 6; i++) {
      refs.push(a.record.remote(i, 10));
      refs.push(a.pause.remote(5));
    }
    await get(refs);
    const expected = Array.from({ length: 6 }, (_, i) => [`enter ${i} (inside: 1)`, `exit ${i}`]).flat();
    expect(await get(a.log.remote())).toEqual(expected);
  });
});
