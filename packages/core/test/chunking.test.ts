import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_ITEMS, TARGET_CHUNK_MS, nextChunkSize, updateItemMs } from '../src/chunking.ts';

describe('the auto chunk size', () => {
  const cases: Array<{ what: string; itemMs: number | undefined; remaining?: number; window: number; size: number }> = [
    { what: 'starts with one item, before anything was measured', itemMs: undefined, window: 4, size: 1 },
    { what: 'aims at about 100 ms of work per chunk', itemMs: 2, window: 4, size: TARGET_CHUNK_MS / 2 },
    { what: 'sends slow items one by one', itemMs: 450, window: 4, size: 1 },
    { what: 'caps tiny items at the largest chunk', itemMs: 0.0001, window: 4, size: MAX_CHUNK_ITEMS },
    { what: 'takes unmeasurably fast items as the largest chunk', itemMs: 0, window: 4, size: MAX_CHUNK_ITEMS },
    { what: 'spreads what is left over the window', itemMs: 0.001, remaining: 1_000, window: 4, size: 250 },
    { what: 'never goes below one item', itemMs: 0.001, remaining: 1, window: 8, size: 1 },
  ];
  for (const c of cases) {
    it(c.what, () => {
      expect(nextChunkSize({ itemMs: c.itemMs, remaining: c.remaining, window: c.window })).toBe(c.size);
    });
  }

  it('averages the time per item over every item measured', () => {
    let state: { itemMs: number | undefined; items: number } = { itemMs: undefined, items: 0 };
    state = updateItemMs(state, 1, 10);
    expect(state).toEqual({ itemMs: 10, items: 1 });
    state = updateItemMs(state, 9, 9);
    expect(state).toEqual({ itemMs: 1.9, items: 10 });
  });
});
