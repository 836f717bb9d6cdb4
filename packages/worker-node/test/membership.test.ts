import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEAD_RECOVERY_MS, LEASE_MARGIN_MS, Membership } from '../src/membership.ts';

afterEach(() => {
  vi.useRealTimers();
});

function membership(silent: { ms: number }, onFenced?: (reason: string) => void, recheck = () => {}) {
  return new Membership('node-1', () => silent.ms, onFenced, recheck);
}

describe('a node\'s membership', () => {
  it('fences the node once when the head is silent past its death timeout minus the margin', () => {
    const silent = { ms: 0 };
    const fenced: string[] = [];
    const m = membership(silent, (reason) => fenced.push(reason));
    m.registered(false, 4_500);
    silent.ms = 4_500 - LEASE_MARGIN_MS - 1;
    m.check();
    expect(fenced).toEqual([]);
    silent.ms = 4_500 - LEASE_MARGIN_MS + 1;
    m.check();
    m.check();
    expect(fenced).toHaveLength(1);
    expect(fenced[0]).toMatch(/no word from the head for 3501 ms \(it declares a node dead after 4500 ms\)/);
  });

  it('keeps no lease before it is registered, in the head\'s process, or while the head is known to be down', () => {
    const fenced: string[] = [];
    const silent = { ms: 60_000 };
    membership(silent, (reason) => fenced.push(reason)).check();
    const beside = membership(silent);
    beside.registered(false, 4_500);
    beside.check();
    const down = membership({ ms: 0 }, (reason) => fenced.push(reason));
    down.registered(false, 4_500);
    down.check();
    expect(fenced).toEqual([]);
  });

  it('never lets the lease fall below half a short death timeout', () => {
    const fenced: string[] = [];
    const m = membership({ ms: 600 }, (reason) => fenced.push(reason));
    m.registered(false, 1_000);
    m.check();
    expect(fenced).toHaveLength(1);
    const n = membership({ ms: 400 }, (reason) => fenced.push(reason));
    n.registered(false, 1_000);
    n.check();
    expect(fenced).toHaveLength(1);
  });

  it('gives a restarted head a grace period before missing nodes count as dead, then re-reads the peers', () => {
    vi.useFakeTimers();
    const recheck = vi.fn();
    const m = membership({ ms: 0 }, () => {}, recheck);
    m.registered(false, 4_500);
    expect(m.recovering()).toBe(false);
    m.registered(true, 4_500);
    expect(m.recovering()).toBe(true);
    vi.advanceTimersByTime(HEAD_RECOVERY_MS + 20);
    expect(m.recovering()).toBe(false);
    expect(recheck).toHaveBeenCalledTimes(1);
  });
});
