/**
 * map and friends on a real cluster started through the CLI (a head with its node, and a second
 * node): chunks run on both nodes, values come back in input order, a failed item names its index,
 * progress counts every item, and a static method made remote with `@remote` runs on both nodes.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, get, init, remoteOf, shutdown, type MapProgress } from '@weft/core';
import { Grid, failOn, squareWhere } from '../fixtures/map-cluster-tasks.ts';
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

interface MapStatus { mapId: string; name: string; done: number; failed: number; total?: number; state: string; jobId: string }
const mapsOnHead = async (): Promise<MapStatus[]> => await (await cluster.get('/api/maps')).json() as MapStatus[];

describe('map on a cluster of two nodes', () => {
  it("shows a running map's progress on the head (/api/maps) while it runs, and its end", async () => {
    const before = new Set((await mapsOnHead()).map((m) => m.mapId));
    const argLists = Array.from({ length: 40 }, (_, i) => [i, 50] as [number, number]);
    let midway: MapStatus | undefined;
    let consumed = 0;
    for await (const _ of squareWhere.imap(argLists.map(([x]) => x), { chunkSize: 1 })) {
      if (++consumed === 20) midway = await until(async () => (await mapsOnHead()).find((m) => !before.has(m.mapId) && m.done > 0), 'the map on the head');
    }
    expect(midway).toMatchObject({ name: 'squareWhere', state: 'running', total: 40, failed: 0 });
    expect(midway!.done).toBeLessThan(40);
    const ended = await until(async () => (await mapsOnHead()).find((m) => m.mapId === midway!.mapId && m.state !== 'running'), 'the map to end on the head');
    expect(ended).toMatchObject({ state: 'finished', done: 40, total: 40 });
    const failed = await failOn.map(Array.from({ length: 200 }, (_, i) => i)).catch(() => undefined);
    expect(failed).toBeUndefined();
    const afterFailure = await until(async () => (await mapsOnHead()).find((m) => m.name === 'failOn' && m.state !== 'running'), 'the failed map on the head');
    expect(afterFailure.state).toBe('failed');
  }, 60_000);

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

  it('reports progress to a function until every item is done, with the chunks on both nodes', async () => {
    const seen: MapProgress[] = [];
    const argLists = Array.from({ length: 200 }, (_, i) => [i, 1] as [number, number]);
    const results = await squareWhere.starmap(argLists, { progress: (p) => seen.push(p) });
    expect(new Set(results.map((r) => r.nodeId)).size).toBe(2);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.map((p) => p.done)).toEqual([...seen.map((p) => p.done)].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({ done: 200, total: 200, failed: 0 });
  }, 60_000);

  it('runs a static method made remote by @remote on both nodes, bound to its class', async () => {
    const cell = remoteOf(Grid.cell);
    expect(await get(cell.remote(1, 0))).toMatchObject({ value: 1001 });
    const results = await cell.starmap(Array.from({ length: 200 }, (_, i) => [i, 2] as [number, number]));
    expect(results.map((r) => r.value)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1000));
    expect(new Set(results.map((r) => r.nodeId)).size).toBe(2);
  }, 60_000);
});
