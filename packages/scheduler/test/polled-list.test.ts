/** The diff behind the dashboard's live feed: only what changed since the last poll, and what left; polls only while someone listens. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PolledList, diffInto, type ListChange } from '../src/polled-list.ts';

type Item = { id: string; state: string };
const key = (item: Item): string => item.id;

describe('diffInto', () => {
  it('reports every item at first, then only the changed ones and the keys that left', () => {
    const last = new Map<string, string>();
    const a = { id: 'a', state: 'running' };
    const b = { id: 'b', state: 'queued' };
    expect(diffInto(last, [a, b], key)).toEqual({ changed: [['a', a], ['b', b]], removed: [] });
    expect(diffInto(last, [a, b], key)).toEqual({ changed: [], removed: [] });
    const a2 = { id: 'a', state: 'finished' };
    const c = { id: 'c', state: 'waiting' };
    expect(diffInto(last, [a2, c], key)).toEqual({ changed: [['a', a2], ['c', c]], removed: ['b'] });
    expect([...last.keys()]).toEqual(['a', 'c']);
  });
});

describe('PolledList', () => {
  afterEach(() => vi.useRealTimers());

  it('asks only while someone listens, and hands on only non-empty changes', async () => {
    vi.useFakeTimers();
    let items: Item[] = [{ id: 'a', state: 'running' }];
    let asked = 0;
    const list = new PolledList(() => { asked += 1; return items; }, key, 100);
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toBe(0);
    const seen: Array<ListChange<Item>> = [];
    const stop = list.subscribe((change) => seen.push(change));
    await vi.advanceTimersByTimeAsync(250);
    expect(asked).toBe(3);
    expect(seen).toEqual([{ changed: [['a', items[0]]], removed: [] }]);
    items = [{ id: 'a', state: 'finished' }];
    await vi.advanceTimersByTimeAsync(100);
    expect(seen.at(-1)).toEqual({ changed: [['a', items[0]]], removed: [] });
    expect(list.snapshot()).toEqual([['a', items[0]]]);
    stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toBe(4);
  });

  it('does not start a poll while the last one is still waiting for its answer', async () => {
    vi.useFakeTimers();
    let asked = 0;
    const list = new PolledList(() => { asked += 1; return new Promise<Item[]>(() => {}); }, key, 100);
    list.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(1_000);
    expect(asked).toBe(1);
  });
});
