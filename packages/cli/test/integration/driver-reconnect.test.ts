/**
 * A driver attached to the head's own node (the default address) survives a head restart: it
 * reconnects with backoff, registers its job again and goes on; what lived on the old node is
 * reported lost. Real head processes started, killed and restarted through the CLI.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectLostError, get, init, put, shutdown } from '@weft/core';
import { CliCluster } from '../support/cli-cluster.ts';
import { whereAmI } from '../fixtures/cluster-tasks.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const cluster = new CliCluster();

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '1');
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 60_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

describe('a driver whose node restarts with the head', () => {
  it('reconnects, registers its job again and runs new tasks; old objects are lost', async () => {
    const before = await get(whereAmI.remote());
    const old = put({ lived: 'on the old node' });
    expect(await get(old)).toEqual({ lived: 'on the old node' });
    await cluster.killHead();
    await cluster.restartHead();
    // Submitted while the driver may still be reconnecting: it waits, then runs on the new node.
    const after = await get(whereAmI.remote(), { timeoutMs: 30_000 });
    expect(after).toMatch(/^node-/);
    expect(after).not.toBe(before);
    await expect(get(old)).rejects.toBeInstanceOf(ObjectLostError);
  }, 90_000);
});
