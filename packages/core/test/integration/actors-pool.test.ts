import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorPool, GetTimeoutError, TaskError, get, init, shutdown, type ActorHandle } from '@weft/core';
import { Doubler } from '../fixtures/pool-actors.ts';
import { rejectionOf } from '../support/outcome.ts';

let doublers: ActorHandle<Doubler>[];

beforeAll(async () => {
  await init({ numCpus: 2 });
  // Started once and shared: each test builds its own pool over them.
  doublers = Array.from({ length: 3 }, () => Doubler.remote());
  await get(doublers.map((d) => d.double.remote(0)));
});
afterAll(async () => {
  await shutdown();
});

const VALUES = Array.from({ length: 20 }, (_, i) => i);

async function collect<T>(results: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const result of results) out.push(result);
  return out;
}

describe('ActorPool', () => {
  it('maps values over its actors and returns the results in input order', async () => {
    const pool = new ActorPool(doublers);
    const results = await collect(pool.map((a, x: number) => a.whoDoubles.remote(x), VALUES));
    expect(results.map((r) => r.y)).toEqual(VALUES.map((x) => 2 * x));
    // One call at a time per actor, the next value to the actor that just finished: an even spread.
    const perActor = new Map<string, number>();
    for (const { actorId } of results) perActor.set(actorId, (perActor.get(actorId) ?? 0) + 1);
    expect(new Set(perActor.keys())).toEqual(new Set(doublers.map((d) => d.actorId)));
    expect([...perActor.values()].sort()).toEqual([6, 7, 7]);
  });

  it('maps values unordered and returns every result once, using every actor', async () => {
    const pool = new ActorPool(doublers);
    const results = await collect(pool.mapUnordered((a, x: number) => a.whoDoubles.remote(x), VALUES));
    expect(results).toHaveLength(VALUES.length);
    expect(new Set(results.map((r) => r.y))).toEqual(new Set(VALUES.map((x) => 2 * x)));
    expect(new Set(results.map((r) => r.actorId))).toEqual(new Set(doublers.map((d) => d.actorId)));
  });

  it('can map again once the previous results are collected', async () => {
    const pool = new ActorPool(doublers);
    expect(await collect(pool.map((a, x: number) => a.double.remote(x), [1, 2, 3, 4]))).toEqual([2, 4, 6, 8]);
    expect(await collect(pool.map((a, x: number) => a.double.remote(x), [5, 6]))).toEqual([10, 12]);
  });

  it('submits calls to idle actors, queues the rest, and returns results in submission order with getNext', async () => {
    const [a, b] = doublers as [ActorHandle<Doubler>, ActorHandle<Doubler>];
    const pool = new ActorPool([a, b]);
    expect(pool.hasNext()).toBe(false);
    expect(pool.hasFree()).toBe(true);
    const double = (actor: ActorHandle<Doubler>, x: number) => actor.double.remote(x);
    pool.submit(double, 1);
    pool.submit(double, 2);
    expect(pool.hasFree()).toBe(false);
    expect(pool.popIdle()).toBeUndefined();
    pool.submit(double, 3); // queued until an actor is free
    expect(pool.hasNext()).toBe(true);
    expect(await pool.getNext()).toBe(2);
    expect(await pool.getNext()).toBe(4);
    expect(await pool.getNext()).toBe(6);
    expect(pool.hasNext()).toBe(false);
    expect(pool.hasFree()).toBe(true);
    await expect(pool.getNext()).rejects.toThrow(RangeError);
  });

  it('returns results as they finish with getNextUnordered', async () => {
    const pool = new ActorPool(doublers.slice(0, 2));
    pool.submit((a, x: number) => a.slowDouble.remote(x, 300), 1);
    pool.submit((a, x: number) => a.double.remote(x), 2);
    expect(await pool.getNextUnordered()).toBe(4);
    expect(await pool.getNextUnordered()).toBe(2);
    expect(pool.hasNext()).toBe(false);
  });

  it('times out getNext without losing the result', async () => {
    const pool = new ActorPool(doublers.slice(0, 1));
    pool.submit((a, x: number) => a.slowDouble.remote(x, 300), 21);
    const error = await rejectionOf(pool.getNext({ timeoutMs: 10 }));
    expect(error).toBeInstanceOf(GetTimeoutError);
    expect(pool.hasNext()).toBe(true);
    expect(await pool.getNext()).toBe(42);
  });

  it('hands out idle actors with popIdle and takes new ones with push, which run queued calls', async () => {
    const [a, b, c] = doublers as [ActorHandle<Doubler>, ActorHandle<Doubler>, ActorHandle<Doubler>];
    const pool = new ActorPool([a, b]);
    const popped = [pool.popIdle(), pool.popIdle()];
    expect(new Set(popped.map((h) => h?.actorId))).toEqual(new Set([a.actorId, b.actorId]));
    expect(pool.hasFree()).toBe(false);
    expect(pool.popIdle()).toBeUndefined();
    // No actors: the call waits in the queue until one is pushed.
    pool.submit((actor, x: number) => actor.whoDoubles.remote(x), 5);
    expect(pool.hasNext()).toBe(true);
    pool.push(c);
    expect(await pool.getNext()).toEqual({ y: 10, actorId: c.actorId });
    expect(pool.hasFree()).toBe(true);
    expect(pool.popIdle()?.actorId).toBe(c.actorId);
  });

  it('passes a failed call on as its TaskError and keeps the actor in the pool', async () => {
    const pool = new ActorPool(doublers.slice(0, 1));
    const checked = (a: ActorHandle<Doubler>, x: number) => a.checkedDouble.remote(x);
    pool.submit(checked, -1);
    pool.submit(checked, 4);
    const error = await rejectionOf(pool.getNext());
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).taskName).toBe('Doubler.checkedDouble');
    expect(await pool.getNext()).toBe(8);
    expect(pool.hasFree()).toBe(true);
  });

  it('refuses to push an actor that is in the pool already (as Ray does)', () => {
    const [a] = doublers as [ActorHandle<Doubler>];
    const pool = new ActorPool([a]);
    // Twice in the idle list, one actor would be given two calls at once.
    expect(() => pool.push(a)).toThrow();
  });
});
