/**
 * A map's progress as the head hears it (clusterProgress), on a fake runtime and fake clocks:
 * sends are at most one per 250 ms, and the last change is always sent, also when nothing follows
 * it (a consumer that paused mid-map: the head would otherwise show its first report forever).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { setRuntime, type ClientRuntime } from '@weft/protocol';
import { clusterProgress } from '../src/progress.ts';

afterEach(() => {
  setRuntime(undefined);
  vi.useRealTimers();
});

describe('clusterProgress', () => {
  it('sends at most every 250 ms and always the last change', () => {
    vi.useFakeTimers();
    const sent: Array<{ done: number; state: string }> = [];
    setRuntime({ newId: () => 'x', identity: { jobId: 'job-1' }, send: (m: { map: { done: number; state: string } }) => void sent.push(m.map) } as unknown as ClientRuntime);
    const progress = clusterProgress('square', 40);
    expect(sent.map((m) => m.done)).toEqual([0]);
    for (let i = 0; i < 20; i++) progress.update({ done: 1, failed: 0 });
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(sent.map((m) => m.done)).toEqual([0, 20]);
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(2);
    progress.update({ done: 1, failed: 0 });
    expect(sent.map((m) => m.done)).toEqual([0, 20, 21]);
    progress.stop(true);
    expect(sent.at(-1)).toMatchObject({ done: 21, state: 'finished' });
    vi.advanceTimersByTime(1_000);
    expect(sent).toHaveLength(4);
  });
});
