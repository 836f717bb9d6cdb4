/**
 * The head's task table and /metrics on a real two-node cluster started through the CLI (the
 * head's node has resource `a`, the second node `b`): tasks on both nodes, a failing one, an
 * actor, and a 10 MB array made on one node and summed on the other. The nodes report their tasks
 * to the head in batches; /api/tasks, `weft list tasks` and /metrics read what the head keeps.
 * /metrics is scraped with the cluster's token and parsed here.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown } from '@weft/core';
import { Tally, makeArray, sumArray, whereAmI } from '../fixtures/cluster-tasks.ts';
import { fails } from '../fixtures/failing-task.ts';
import { parsePrometheus } from '../../../scheduler/test/support/prometheus.ts';
import { CliCluster, pinnedTo, until, type CliNode } from '../support/cli-cluster.ts';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const WEFT = fileURLToPath(new URL('../../bin/weft.mjs', import.meta.url));
/** 10 MiB of float64s: large enough to stay where it was made, and be pulled in chunks. */
const ARRAY_LENGTH = (10 * 1024 * 1024) / 8;
const PER_NODE = 10;

const cluster = new CliCluster();
let nodeB: CliNode;

const headGet = (pathname: string): Promise<Response> => cluster.get(pathname);
const scrape = async (): Promise<Map<string, number>> => parsePrometheus(await (await headGet('/metrics')).text());

beforeAll(async () => {
  nodeB = await cluster.startPair();
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 120_000);

afterAll(async () => {
  try {
    await shutdown();
  } finally {
    expect(await cluster.stop()).toEqual([]);
  }
}, 60_000);

describe('the head\'s task table and metrics', () => {
  const ids: Record<string, string> = {};

  it('lists the tasks both nodes ran, with their nodes, workers and dependencies', async () => {
    const onA = Array.from({ length: PER_NODE }, () => whereAmI.options(pinnedTo('a')).remote());
    const onB = Array.from({ length: PER_NODE }, () => whereAmI.options(pinnedTo('b')).remote());
    expect(new Set(await get(onB, { timeoutMs: 30_000 }))).toEqual(new Set([nodeB.nodeId]));
    const headNode = (await get(onA, { timeoutMs: 30_000 }))[0] as string;
    const array = makeArray.options(pinnedTo('b')).remote(ARRAY_LENGTH);
    const sum = sumArray.options(pinnedTo('a')).remote(array);
    expect(await get(sum, { timeoutMs: 30_000 })).toMatchObject({ total: 1.5 * ARRAY_LENGTH, length: ARRAY_LENGTH, nodeId: headNode });
    await expect(get(fails.remote('on purpose'), { timeoutMs: 30_000 })).rejects.toThrow(/on purpose/);
    Object.assign(ids, { array: array.id, sum: sum.id, b0: onB[0]?.id });

    type Row = { taskId: string; name: string; state: string; nodeId: string; workerId?: string; jobId?: string; deps?: string[]; depTasks?: string[]; error?: string };
    const tasks = await until(async () => {
      const rows = (await (await headGet('/api/tasks')).json()) as Row[];
      return rows.filter((row) => row.state === 'finished' || row.state === 'failed').length === 2 * PER_NODE + 3 ? rows : undefined;
    }, 'the head to list every task finished', 15_000, 100);
    const byId = new Map(tasks.map((row) => [row.taskId, row]));
    expect(byId.get(ids.b0 as string)).toMatchObject({ name: 'whereAmI', state: 'finished', nodeId: nodeB.nodeId });
    expect(byId.get(ids.b0 as string)?.workerId).toBeTypeOf('string');
    expect(byId.get(ids.array as string)).toMatchObject({ name: 'makeArray', nodeId: nodeB.nodeId });
    expect(byId.get(ids.sum as string)).toMatchObject({ name: 'sumArray', nodeId: headNode, deps: [ids.array], depTasks: [ids.array] });
    expect(tasks.filter((row) => row.state === 'failed')).toMatchObject([{ name: 'fails', error: 'TASK_ERROR' }]);
    expect(new Set(tasks.map((row) => row.jobId)).size).toBe(1);

    const graph = (await (await headGet('/api/tasks/graph')).json()) as { edges: Array<{ from: string; to: string }> };
    expect(graph.edges).toContainEqual({ from: ids.array, to: ids.sum, objectId: ids.array });

    const { stdout } = await run(process.execPath, [WEFT, 'list', 'tasks', '--address', cluster.url, '--token', cluster.token], { timeout: 30_000 });
    expect(stdout).toContain('sumArray');
    expect(stdout).toContain('TASK_ERROR');
  }, 90_000);

  it('serves the figures of tasks, durations, actors, nodes and bytes moved at /metrics', async () => {
    const tally = Tally.options(pinnedTo('b')).remote();
    expect(await get(tally.add.remote(2), { timeoutMs: 30_000 })).toEqual({ n: 2, nodeId: nodeB.nodeId });
    const finished = 2 * PER_NODE + 2;
    // Heartbeats carry the stats: wait for the one after the actor came alive.
    const samples = await until(async () => {
      const now = await scrape();
      return now.get('weft_actors{state="alive"}') === 1 ? now : undefined;
    }, 'the head to count the actor alive', 15_000, 100);
    expect(samples.get('weft_tasks{state="finished"}')).toBe(finished);
    expect(samples.get('weft_tasks{state="failed"}')).toBe(1);
    expect(samples.get('weft_tasks{state="running"}')).toBe(0);
    expect(samples.get('weft_task_duration_seconds_count{state="finished"}')).toBe(finished);
    expect(samples.get('weft_task_duration_seconds_count{state="failed"}')).toBe(1);
    expect(samples.get('weft_task_duration_seconds_bucket{le="+Inf",state="finished"}')).toBe(finished);
    expect(samples.get('weft_actors_alive')).toBe(1);
    expect(samples.get('weft_nodes_alive')).toBe(2);
    expect(samples.get('weft_nodes{state="alive"}')).toBe(2);
    const up = [...samples].filter(([name]) => name.startsWith('weft_node_up{'));
    expect(up).toHaveLength(2);
    expect(up.every(([, value]) => value === 1)).toBe(true);
    expect(samples.get(`weft_node_up{node="${nodeB.nodeId}"}`)).toBe(1);
    const tenMiB = 10 * 1024 * 1024;
    expect(samples.get('weft_bytes_moved_total')).toBeGreaterThanOrEqual(tenMiB);
    expect(samples.get(`weft_node_bytes_pushed_total{node="${nodeB.nodeId}"}`)).toBeGreaterThanOrEqual(tenMiB);
    const pulledByHeadNode = [...samples].filter(([name]) => name.startsWith('weft_node_bytes_pulled_total{') && !name.includes(nodeB.nodeId));
    expect(pulledByHeadNode[0]?.[1]).toBeGreaterThanOrEqual(tenMiB);
    // The array lives in b's store while its ref is held here.
    expect(samples.get(`weft_node_object_bytes{node="${nodeB.nodeId}"}`)).toBeGreaterThanOrEqual(tenMiB);
    expect(samples.get(`weft_node_spilled_bytes{node="${nodeB.nodeId}"}`)).toBe(0);
    expect(samples.get('weft_resources_total{resource="CPU"}')).toBe(2);
  }, 90_000);

  it('refuses /metrics without the token', async () => {
    const response = await fetch(`${cluster.url.replace(/^ws/, 'http')}/metrics`);
    expect(response.status).toBe(401);
  });
});
