/**
 * Ownership across processes (Ray's model), on a real cluster started through the CLI: a head
 * with its node (the driver's node, resource `a`) and two more nodes (`b`, `c`), every process
 * run with --expose-gc so that a `churn` task can make each node collect its garbage. A ref made
 * on one node and held on another — returned inside a task's value, kept in an actor's state,
 * handed on through two tasks — stays readable however much garbage is collected everywhere,
 * and once the last ref anywhere is dropped, the object is freed everywhere: the nodes' stores
 * and spill folders shrink back.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, kill, put, shutdown, type ObjectRef } from '@weft/core';
import { Keeper, churn, passOn, putInside, sumBox, type Box } from '../fixtures/ownership-tasks.ts';
import { CliCluster, until, type CliNode } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
/** 2 MiB arrays: large enough to stay on the node that made them (and to be pulled in chunks). */
const N = 262_144;
const GET_TIMEOUT_MS = 30_000;

const cluster = new CliCluster({ NODE_OPTIONS: '--expose-gc', ...(process.env.WEFT_CLUSTER_LOG_LEVEL ? { WEFT_LOG_LEVEL: process.env.WEFT_CLUSTER_LOG_LEVEL } : {}) });
const nodes: Record<'b' | 'c', CliNode | undefined> = { b: undefined, c: undefined };
// A little of a node's resource pins a task or actor there (an actor holds it for its life).
const on = (name: string) => ({ resources: { [name]: 0.01 } });

/** Garbage collection on every node (twice each) and here. */
async function churnEverywhere(): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await get(['a', 'b', 'c'].map((name) => churn.options(on(name)).remote()), { timeoutMs: GET_TIMEOUT_MS });
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Bytes of objects each live node reports holding in memory. */
async function storeBytes(): Promise<number> {
  const response = await fetch(`${cluster.url.replace(/^ws/, 'http')}/api/nodes`, { headers: { authorization: `Bearer ${cluster.token}` } });
  const list = (await response.json()) as Array<{ alive: boolean; stats: { objectBytes: number } | null }>;
  return list.filter((node) => node.alive).reduce((total, node) => total + (node.stats?.objectBytes ?? 0), 0);
}

/** The large objects the nodes still hold, and who holds them. */
async function objectsLeft(): Promise<unknown[]> {
  const response = await fetch(`${cluster.url.replace(/^ws/, 'http')}/api/objects`, { headers: { authorization: `Bearer ${cluster.token}` } });
  return ((await response.json()) as Array<{ size: number }>).filter((object) => object.size > 64 * 1024);
}

/** Files in every node's spill folder. */
function spillFiles(): number {
  let count = 0;
  const root = path.join(cluster.session, 'nodes');
  for (const node of readdirSync(root)) {
    for (const dir of readdirSync(path.join(root, node)).filter((name) => name.startsWith('weft-spill-'))) {
      count += readdirSync(path.join(root, node, dir)).length;
    }
  }
  return count;
}

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '1', '--resources', '{"a":1}');
  nodes.b = await cluster.addNode(1, { b: 1 });
  // A small store on c: what it holds spills to disk.
  nodes.c = await cluster.addNode(1, { c: 1 }, '--object-store-memory', '5MB');
  await until(async () => ((await cluster.liveNodes()).length === 3 ? true : undefined), 'three live nodes');
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 120_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

describe('an object held by a node other than its owner', () => {
  it('stays readable when it was returned inside a value from a task on another node', async () => {
    let box: Box | undefined = await get(putInside.options(on('b')).remote(N, 3), { timeoutMs: GET_TIMEOUT_MS });
    for (let round = 0; round < 3; round++) {
      await churnEverywhere();
      const xs = await get(box.x, { timeoutMs: GET_TIMEOUT_MS });
      expect(xs.length).toBe(N);
      expect(xs[N - 1]).toBe(3);
      expect(await get(sumBox.options(on('c')).remote(box), { timeoutMs: GET_TIMEOUT_MS })).toEqual({ length: N, sum: 3 * N });
    }
    box = undefined;
  }, 90_000);

  it('stays readable in an actor\'s state after the driver dropped its own ref', async () => {
    const keeper = Keeper.options(on('c')).remote();
    let ref: ObjectRef<Float64Array> | undefined = put(new Float64Array(N).fill(5));
    expect(await get(keeper.keep.remote({ x: ref }))).toBe(true);
    ref = undefined;
    for (let round = 0; round < 3; round++) {
      await churnEverywhere();
      expect(await get(keeper.read.remote(), { timeoutMs: GET_TIMEOUT_MS })).toEqual({ length: N, sum: 5 * N });
    }
    await kill(keeper);
  }, 90_000);

  it('stays readable when handed on through two tasks on two other nodes', async () => {
    let ref: ObjectRef<Float64Array> | undefined = put(new Float64Array(N).fill(2));
    const first = passOn.options(on('b')).remote({ x: ref }, 'c', 500);
    ref = undefined;
    await churnEverywhere();
    const second = await get(first, { timeoutMs: GET_TIMEOUT_MS });
    await churnEverywhere();
    expect(await get(second, { timeoutMs: GET_TIMEOUT_MS })).toEqual({ length: N, sum: 2 * N });
  }, 90_000);

  it('is freed once the actor that alone held it is killed, with no garbage collection asked for anywhere', async () => {
    await churnEverywhere();
    await until(async () => ((await storeBytes()) < 1024 * 1024 ? true : undefined), 'the stores to be empty before', 20_000, 200);
    const before = await storeBytes();
    // A neighbour keeps the shared actor worker alive after the keeper is gone.
    const neighbour = Keeper.options(on('b')).remote();
    const keeper = Keeper.options(on('b')).remote();
    expect(await get([neighbour.drop.remote(), keeper.make.remote(N, 4)])).toEqual([true, true]);
    await until(async () => ((await storeBytes()) > before + N * 8 ? true : undefined), 'the object to be counted', 10_000, 200);
    await kill(keeper);
    // Its worker collects at once (about a second with the heartbeat's report); left to an idle
    // worker's own collector, it took 13 s here, or never.
    await until(async () => ((await storeBytes()) <= before + 64 * 1024 ? true : undefined), 'the store to shrink back', 6_000, 200)
      .catch(async (error: unknown) => { throw new Error(`${String(error)}: objects left: ${JSON.stringify(await objectsLeft())}`); });
    await kill(neighbour);
  }, 90_000);

  it('is freed everywhere once the last ref to it is dropped: the stores and spill folders shrink back', async () => {
    await churnEverywhere();
    await until(async () => ((await storeBytes()) < 1024 * 1024 ? true : undefined), 'the stores to be empty before', 20_000, 200);
    const before = await storeBytes();
    // In a function of its own: a suspended async frame keeps the values its registers last held.
    await (async () => {
      const boxes: Box[] = await get(Array.from({ length: 6 }, (_, i) => putInside.options(on(i % 2 === 0 ? 'b' : 'c')).remote(N, i)),
        { timeoutMs: GET_TIMEOUT_MS });
      // Held on c too (its store spills), and read by the driver.
      const keeper = Keeper.options(on('c')).remote();
      for (const box of boxes) await get(keeper.keep.remote(box));
      for (const box of boxes) expect((await get(box.x, { timeoutMs: GET_TIMEOUT_MS })).length).toBe(N);
      await until(async () => ((await storeBytes()) > before + 6 * N * 8 ? true : undefined), 'the objects to be counted', 10_000, 200);
      await kill(keeper);
    })();
    await until(async () => {
      await churnEverywhere();
      return (await storeBytes()) <= before + 64 * 1024 && spillFiles() === 0 ? true : undefined;
    }, 'the stores and spill folders to shrink back', 40_000, 500).catch(async (error: unknown) => {
      throw new Error(`${String(error)}: ${spillFiles()} spill files; objects left: ${JSON.stringify(await objectsLeft())}`);
    });
  }, 120_000);
});
