/**
 * Streaming generators across nodes, on a real cluster started through the CLI: the driver's
 * node (the head's, resource `a`) owns a generator task that runs on another node (resource
 * `b`); each value it yields is stored there and streamed back to the owner as it comes (small
 * values inline, large ones by location, pulled when read), in order, before the task ends.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskCancelledError, TaskError, get, getRuntimeContext, init, shutdown, type ObjectRef } from '@weft/core';
import { sumArray, whereAmI } from '../fixtures/cluster-tasks.ts';
import { endless, failAfterThree, waitThenStream } from '../fixtures/streaming-tasks.ts';
import { CliCluster, pinnedTo, type CliNode } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
/** 2 MiB: stays on the node that yielded it, told to the owner by location. */
const N = 262_144;
const TIMEOUT_MS = 30_000;

const cluster = new CliCluster();
let nodeB: CliNode | undefined;
let tmp = '';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-streaming-cluster-'));
  nodeB = await cluster.startPair();
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 120_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

describe('a generator task that runs on another node than its owner', () => {
  it('streams its refs back to the owner before it ends: in order, a large value by location, each usable by tasks on the owner\'s node', async () => {
    const signal = path.join(tmp, 'go');
    const gen = waitThenStream.options(pinnedTo('b')).remote(signal, N, TIMEOUT_MS);
    const first = await gen.next();
    const firstRef = first.value as ObjectRef<string>;
    // Yielded on b, owned by the driver's node.
    expect(await get(firstRef, { timeoutMs: TIMEOUT_MS })).toBe(nodeB?.nodeId);
    expect(firstRef.owner).toBe(getRuntimeContext().nodeId);
    // The task still runs: it waits for this file before it yields the rest.
    writeFileSync(signal, '');
    const refs: ObjectRef[] = [];
    for await (const ref of gen) refs.push(ref);
    expect(refs).toHaveLength(4);
    const [big, ...letters] = refs as [ObjectRef<Float64Array>, ...Array<ObjectRef<string>>];
    expect(await get(letters, { timeoutMs: TIMEOUT_MS })).toEqual(['a', 'b', 'c']);
    const xs = await get(big, { timeoutMs: TIMEOUT_MS });
    expect([xs.length, xs[0], xs[N - 1]]).toEqual([N, 2, 2]);
    const summed = await get(sumArray.options(pinnedTo('a')).remote(big), { timeoutMs: TIMEOUT_MS });
    expect(summed).toEqual({ total: 2 * N, length: N, nodeId: getRuntimeContext().nodeId });
    expect(await get(gen.completed(), { timeoutMs: TIMEOUT_MS })).toBe(5);
  }, 90_000);

  it('gives the three refs yielded before an error on the other node, then its TaskError', async () => {
    const refs: Array<ObjectRef<number>> = [];
    let error: unknown;
    try {
      for await (const ref of failAfterThree.options(pinnedTo('b')).remote()) refs.push(ref);
    } catch (caught) {
      error = caught;
    }
    expect(await get(refs, { timeoutMs: TIMEOUT_MS })).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toContain('there is no fourth value');
  }, 60_000);

  it('stops the task on the other node when the loop is left early: its CPU there is free again', async () => {
    const gen = endless.options(pinnedTo('b')).remote();
    const seen: number[] = [];
    for await (const ref of gen) {
      seen.push(await get(ref, { timeoutMs: TIMEOUT_MS }));
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([0, 1, 2]);
    await expect(get(gen.completed(), { timeoutMs: TIMEOUT_MS })).rejects.toBeInstanceOf(TaskCancelledError);
    // b has one CPU, which the generator held: a task that needs it runs only because it was stopped.
    expect(await get(whereAmI.options(pinnedTo('b')).remote(), { timeoutMs: TIMEOUT_MS })).toBe(nodeB?.nodeId);
  }, 60_000);
});
