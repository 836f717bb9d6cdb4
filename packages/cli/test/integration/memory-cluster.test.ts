/**
 * Memory with a driver joined to a real cluster started through the CLI (a head with its node,
 * and a second node offering `far`): the cache lives in the driver's folder, the tasks run on the
 * other node, and a second call with the same arguments runs nothing there.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Memory, get, init, shutdown } from '@weft/core';
import { loggedSeries, seriesTotal } from '../fixtures/memory-cluster-tasks.ts';
import { CliCluster, until } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const cluster = new CliCluster();
const root = mkdtempSync(path.join(os.tmpdir(), 'weft-memory-cluster-'));
const log = path.join(root, 'ran.log');
const far = { resources: { far: 1 } };

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '1');
  await cluster.addNode(1, { far: 1 });
  await until(async () => ((await cluster.liveNodes()).length === 2 ? true : undefined), 'two live nodes');
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 90_000);

afterAll(async () => {
  await shutdown();
  rmSync(root, { recursive: true, force: true });
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

const ran = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
const bytes = (xs: Float64Array): Buffer => Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength);

describe('Memory with a driver joined to a cluster', () => {
  it('caches on the driver\'s machine what ran on another node, and serves it there without a task', async () => {
    const memory = new Memory(path.join(root, 'cache'));
    const series = memory.cache(loggedSeries);
    const n = 500_000;
    const first = await get(series.options(far).remote(log, n, 1.5));
    await memory.flush();
    expect(readdirSync(memory.location, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.weft'))).toHaveLength(1);

    const ref = series.options(far).remote(log, n, 1.5);
    const hit = await get(ref);
    expect(hit.fill).toBe(1.5);
    expect(bytes(hit.xs).equals(bytes(first.xs))).toBe(true);
    // The hit's ref is an object of the cluster: a task on the other node reads it.
    expect(await get(seriesTotal.options(far).remote(ref))).toBe(1.5 * n);
    // Another Memory on the folder (the next run of the driver) hits too; other arguments run.
    expect((await get(new Memory(memory.location).cache(loggedSeries).remote(log, n, 1.5))).fill).toBe(1.5);
    expect((await get(series.options(far).remote(log, 10, 2))).fill).toBe(2);
    expect(ran()).toEqual(['1.5', '2']);
  }, 60_000);
});
