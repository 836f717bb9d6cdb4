/**
 * map and friends on a real cluster started through the CLI (a head with its node, and a second
 * node): chunks run on both nodes, values come back in input order, a failed item names its index.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, init, shutdown } from '@weft/core';
import { failOn, squareWhere } from '../fixtures/map-cluster-tasks.ts';
import { CliCluster, until } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const cluster = new CliCluster();

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '1');
  await cluster.addNode(1);
  await until(async () => ((await cluster.liveNodes()).length === 2 ? true : undefined), 'two live nodes');
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 90_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

describe('map on a cluster of two nodes', () => {
  it('returns every value in input order, from chunks that ran on both nodes', async () => {
    const argLists = Array.from({ length: 400 }, (_, i) => [i, 2] as [number, number]);
    const results = await squareWhere.starmap(argLists);
    expect(results.map((r) => r.value)).toEqual(argLists.map(([x]) => x * x));
    expect(new Set(results.map((r) => r.nodeId)).size).toBe(2);
  }, 60_000);

  it('streams values in completion order with imapUnordered', async () => {
    const seen: number[] = [];
    for await (const x of failOn.imapUnordered(Array.from({ length: 100 }, (_, i) => i), { chunkSize: 7 })) seen.push(x);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  }, 60_000);

  it('rejects with the TaskError of the failed item, naming its index', async () => {
    const error = await failOn.map(Array.from({ length: 300 }, (_, i) => i)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toMatch(/item 123: no 123/);
    expect((error as TaskError).cause).toBe('RangeError');
  }, 60_000);
});
