/**
 * Many actors on one node (DESIGN, "Actors at scale"): actors that reserve no CPU share a few
 * worker threads, so thousands are alive at once; a shared worker's death restarts each of its
 * actors within its own maxRestarts; killing one leaves its neighbours answering, its timers
 * stopped. A real embedded cluster (2 CPUs: two shared actor workers).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDiedError, get, init, kill, shutdown, type ActorHandle } from '@weft/core';
import { Cell, Ticker } from '../fixtures/scale-actors.ts';
import { rejectionOf } from '../support/outcome.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

describe('thousands of actors', () => {
  it('keeps 2,000 actors alive, each answering with its own state, in a few shared workers', async () => {
    const cells = Array.from({ length: 2_000 }, (_, i) => Cell.remote(i));
    expect(await get(cells.map((c) => c.inc.remote()))).toEqual(cells.map(() => 1));
    const where = await get(cells.map((c) => c.where.remote()));
    expect(where.map(([id, n]) => [id, n])).toEqual(cells.map((_, i) => [i, 1]));
    const threads = new Set(where.map(([, , thread]) => thread));
    expect(threads.size).toBe(2);
    for (const c of cells) kill(c);
  }, 120_000);

  it('gives an isolated actor a worker of its own', async () => {
    const shared = Array.from({ length: 4 }, (_, i) => Cell.remote(i));
    const alone = Cell.options({ isolated: true }).remote(99);
    const sharedThreads = new Set((await get(shared.map((c) => c.where.remote()))).map(([, , t]) => t));
    const [, , aloneThread] = await get(alone.where.remote());
    expect(sharedThreads.has(aloneThread)).toBe(false);
    for (const c of [...shared, alone]) kill(c);
  });
});

describe('a shared worker that dies under 100 actors', () => {
  it('restarts each of its actors within its own maxRestarts; the other worker\'s actors keep their state', async () => {
    // Even ids may restart once, odd ids not at all.
    const cells = Array.from({ length: 100 }, (_, i) => Cell.options({ maxRestarts: i % 2 === 0 ? 1 : 0 }).remote(i));
    await get(cells.map((c) => c.inc.remote()));
    const before = await get(cells.map((c) => c.where.remote()));
    const victim = before[0]?.[2];
    const inVictim = before.filter(([, , t]) => t === victim).map(([id]) => id);
    const elsewhere = before.filter(([, , t]) => t !== victim).map(([id]) => id);
    expect(inVictim.length).toBeGreaterThan(10);
    expect(elsewhere.length).toBeGreaterThan(10);

    expect(await rejectionOf(get((cells[0] as ActorHandle<Cell>).crash.remote()))).toBeInstanceOf(ActorDiedError);
    const after = await Promise.allSettled(cells.map((c) => get(c.where.remote())));
    for (const id of inVictim) {
      const outcome = after[id] as PromiseSettledResult<[number, number, number]>;
      if (id % 2 === 0) {
        // Restarted: its constructor ran again (count back to 0), in a live worker.
        expect(outcome).toMatchObject({ status: 'fulfilled', value: [id, 0, expect.any(Number)] });
      } else {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ActorDiedError);
        expect(String((outcome as PromiseRejectedResult).reason.message)).toMatch(/no restarts left \(maxRestarts: 0\)/);
      }
    }
    for (const id of elsewhere) expect(after[id]).toMatchObject({ status: 'fulfilled', value: [id, 1, expect.any(Number)] });
    // The restarted ones answer again, and count on.
    const restarted = inVictim.filter((id) => id % 2 === 0);
    expect(await get(restarted.map((id) => (cells[id] as ActorHandle<Cell>).inc.remote()))).toEqual(restarted.map(() => 1));
    for (const c of cells) kill(c);
  }, 120_000);
});

describe('kill of one actor in a shared worker', () => {
  it('stops it for good, its timers with it, and leaves its neighbours answering', async () => {
    const ticker = Ticker.remote('t1');
    const thread = await get(ticker.thread.remote());
    // Neighbours: cells in the ticker's worker (actors spread over the two shared workers).
    const cells = Array.from({ length: 20 }, (_, i) => Cell.remote(i));
    const where = await get(cells.map((c) => c.where.remote()));
    const neighbours = cells.filter((_, i) => where[i]?.[2] === thread);
    expect(neighbours.length).toBeGreaterThan(0);
    const probe = neighbours[0] as ActorHandle<Cell>;
    await sleep(50);
    expect(await get(probe.ticksOf.remote('t1'))).toBeGreaterThan(0);

    kill(ticker);
    expect(await rejectionOf(get(ticker.thread.remote()))).toBeInstanceOf(ActorDiedError);
    const stopped = await get(probe.ticksOf.remote('t1'));
    await sleep(100);
    expect(await get(probe.ticksOf.remote('t1'))).toBe(stopped);
    // Every neighbour answers, its state intact, in the same worker.
    expect(await get(neighbours.map((c) => c.inc.remote()))).toEqual(neighbours.map(() => 1));
    expect(new Set((await get(neighbours.map((c) => c.where.remote()))).map(([, , t]) => t))).toEqual(new Set([thread]));
    for (const c of cells) kill(c);
  });
});
