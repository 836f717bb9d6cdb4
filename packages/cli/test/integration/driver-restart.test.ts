/**
 * A driver joined to a cluster that calls shutdown() and then init({ address }) again, in one
 * process: the refs of its first runtime are dead. Before, the new runtime announced every one
 * of them to the node (which, their job having ended, made an empty entry for each that nothing
 * would ever fill: a get of one waited forever). Now the node hears nothing of them and a get
 * fails at once, naming the cause. A real head and node, started through the CLI.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectLostError, get, init, put, shutdown } from '@weft/core';
import { CliCluster, until } from '../support/cli-cluster.ts';
import { sumArray, whereAmI } from '../fixtures/cluster-tasks.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const OLD_REFS = 2_000;
const cluster = new CliCluster();

/** Entries in the object stores of the live nodes (pending ones too), as their heartbeats last said. */
async function storeEntries(): Promise<number> {
  const response = await fetch(`${cluster.url.replace(/^ws/, 'http')}/api/nodes`, { headers: { authorization: `Bearer ${cluster.token}` } });
  const nodes = (await response.json()) as Array<{ alive: boolean; stats: { objects: number } | null }>;
  return nodes.filter((node) => node.alive).reduce((total, node) => total + (node.stats?.objects ?? 0), 0);
}

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '1');
}, 60_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

describe('a cluster driver that calls init() again after shutdown()', () => {
  it('tells the node nothing of the first runtime\'s refs, fails a get of one at once, and runs new work', async () => {
    const join = () => init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
    await join();
    const old = Array.from({ length: OLD_REFS }, (_, i) => put(i));
    expect(await get(old[OLD_REFS - 1] as (typeof old)[number])).toBe(OLD_REFS - 1);
    await shutdown();
    // The first job ended with its driver: its objects are freed.
    await until(async () => ((await storeEntries()) === 0 ? true : undefined), 'the first job\'s objects to be freed', 15_000);

    await join();
    const data = put(new Float64Array(100).fill(2));
    expect(await get(sumArray.remote(data))).toMatchObject({ total: 200 });
    const start = performance.now();
    const error = await get(old[0] as (typeof old)[number], { timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectLostError);
    expect((error as Error).message).toMatch(/^get\(\): ObjectRef \S+ belongs to a weft runtime that was shut down/);
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(await get(whereAmI.remote())).toMatch(/^node-/);
    // What the node keeps is the new driver's (its put and its tasks), none of the old ids.
    let entries = Infinity;
    await until(async () => ((entries = await storeEntries()) < 10 ? true : undefined), 'the node to hold only the new driver\'s objects', 10_000)
      .catch(() => {}); // the count says more than the timeout
    expect(entries).toBeLessThan(10);
    expect(old).toHaveLength(OLD_REFS); // the old refs were alive throughout
  }, 90_000);
});
