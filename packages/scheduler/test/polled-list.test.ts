/** The diff behind the dashboard's live feed: only what changed since the last poll, and what left. */
import { describe, expect, it } from 'vitest';
import { diffInto } from '../src/polled-list.ts';

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
