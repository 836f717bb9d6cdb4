/**
 * Recursive cancel, asCompleted and a map left early, on a real cluster started through the CLI:
 * the head's node (resource `a`) and a second node (resource `b`), so that a task's children and
 * a map's chunks run on another node than the task or the driver that cancels them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskCancelledError, asCompleted, cancel, get, init, shutdown } from '@weft/core';
import { markItem, parentOfRemoteChild, sleepWhere } from '../fixtures/cancel-cluster-tasks.ts';
import { CliCluster, pinnedTo, until, type CliNode } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const cluster = new CliCluster();
let nodeB: CliNode | undefined;
let tmp = '';

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-cancel-cluster-'));
  nodeB = await cluster.startPair();
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 120_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

/** The values appended to `file` so far. */
function marks(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

/** Resolves once the parent task has submitted its child (it writes `file`.submitted). */
async function submitted(file: string): Promise<void> {
  await until(async () => (existsSync(`${file}.submitted`) ? true : undefined), 'the parent to submit its child');
}

describe('cancel on a cluster', () => {
  it('cancels, by default, the child a cancelled task submitted to another node', async () => {
    const file = path.join(tmp, 'recursive');
    const parent = parentOfRemoteChild.options(pinnedTo('a')).remote(1_000, file);
    await submitted(file);
    await cancel(parent);
    await expect(get(parent)).rejects.toBeInstanceOf(TaskCancelledError);
    // Past the child's 1 s: it was stopped on node b, so it never marked.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(marks(file)).toEqual([]);
    // Node b's CPU is free again: a task needing it runs.
    expect((await get(sleepWhere.options({ ...pinnedTo('b'), numCpus: 1 }).remote(0))).nodeId).toBe(nodeB?.nodeId);
  }, 60_000);

  it('leaves the child running with recursive: false', async () => {
    const file = path.join(tmp, 'not-recursive');
    const parent = parentOfRemoteChild.options(pinnedTo('a')).remote(600, file);
    await submitted(file);
    await cancel(parent, { recursive: false });
    await until(async () => (marks(file).length > 0 ? true : undefined), 'the child to mark');
    expect(marks(file)).toEqual([1]);
  }, 60_000);
});

describe('asCompleted on a cluster', () => {
  it('gives refs from both nodes in the order their tasks finish', async () => {
    // One CPU each: the two short tasks run on a, one after the other, beside the 3 s one on b.
    // Which of a's two ends first is the node's to choose (a loaded node may spill and take one
    // back later); the refs must come in the order the tasks ended, whatever it was.
    const refs = [sleepWhere.options(pinnedTo('b')).remote(3_000), sleepWhere.options(pinnedTo('a')).remote(10), sleepWhere.options(pinnedTo('a')).remote(400)];
    const seen: Array<{ ms: number; nodeId: string; endedAt: number }> = [];
    for await (const ref of asCompleted(refs)) seen.push(await get(ref));
    expect(seen.map((s) => s.endedAt)).toEqual(seen.map((s) => s.endedAt).sort((x, y) => x - y));
    expect(seen.map((s) => s.ms).sort((x, y) => x - y)).toEqual([10, 400, 3_000]);
    expect(seen[2]).toMatchObject({ ms: 3_000, nodeId: nodeB?.nodeId });
  }, 60_000);
});

describe('a map on a cluster, left early', () => {
  it('cancels the chunks still running on the other node when the loop breaks', async () => {
    const file = path.join(tmp, 'break');
    const items = [{ x: 0, ms: 0, file }, { x: 1, ms: 0, file }, ...Array.from({ length: 6 }, (_, i) => ({ x: i + 2, ms: 1_000, file }))];
    const seen: number[] = [];
    for await (const x of markItem.options(pinnedTo('b')).imap(items, { chunkSize: 1, maxInFlight: 3 })) {
      seen.push(x);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([0, 1]);
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect(marks(file).sort()).toEqual([0, 1]);
  }, 60_000);
});
