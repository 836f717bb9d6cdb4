/**
 * Timers by actor: what an actor's code sets (directly, after an await, or from another of its
 * timers) is cleared with `clear(actorId)`; its neighbours' timers and timers set outside any
 * actor run on. Real timers, on a copy of the timer functions (the test's own globals stay).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ActorTimers, type TimerGlobals } from '../src/actor-timers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setUp() {
  const scope = new AsyncLocalStorage<string>();
  const timers = new ActorTimers();
  const g: TimerGlobals = { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate };
  timers.install(() => scope.getStore(), g);
  return { scope, timers, g };
}

describe('ActorTimers', () => {
  it('clears the timeouts, intervals and immediates of the killed actor only', async () => {
    const { scope, timers, g } = setUp();
    const fired: string[] = [];
    for (const actor of ['a', 'b']) {
      scope.run(actor, () => {
        g.setTimeout(() => fired.push(`${actor}:timeout`), 30);
        g.setInterval(() => fired.push(`${actor}:interval`), 10);
        g.setImmediate(() => fired.push(`${actor}:immediate`));
      });
    }
    g.setTimeout(() => fired.push('outside:timeout'), 30);
    expect(timers.count('a')).toBe(3);
    timers.clear('a');
    expect(timers.count('a')).toBe(0);
    await sleep(60);
    timers.clear('b');
    expect(fired.filter((f) => f.startsWith('a:'))).toEqual([]);
    expect(fired).toContain('b:timeout');
    expect(fired).toContain('b:immediate');
    expect(fired.filter((f) => f === 'b:interval').length).toBeGreaterThanOrEqual(2);
    expect(fired).toContain('outside:timeout');
    const before = fired.length;
    await sleep(30);
    expect(fired.length).toBe(before);
  });

  it('follows an actor through awaits and timers its timers set', async () => {
    const { scope, timers, g } = setUp();
    const fired: string[] = [];
    await scope.run('a', async () => {
      await sleep(1);
      g.setTimeout(() => {
        fired.push('first');
        g.setTimeout(() => fired.push('second'), 40);
      }, 5);
    });
    await sleep(20);
    expect(fired).toEqual(['first']);
    expect(timers.count('a')).toBe(1);
    timers.clear('a');
    await sleep(50);
    expect(fired).toEqual(['first']);
  });

  it('forgets timers that fired or were cleared, and keeps the originals\' promisified form', async () => {
    const { scope, timers, g } = setUp();
    scope.run('a', () => {
      const cleared = g.setTimeout(() => {}, 1000);
      g.clearTimeout(cleared);
      g.setTimeout(() => {}, 1);
      const interval = g.setInterval(() => {}, 1000);
      g.clearInterval(interval);
    });
    expect(timers.count('a')).toBe(1);
    await sleep(10);
    expect(timers.count('a')).toBe(0);
    await expect(promisify(g.setTimeout)(1, 'v')).resolves.toBe('v');
  });
});
