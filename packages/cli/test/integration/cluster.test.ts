/**
 * A real cluster on 127.0.0.1: a head (with a node beside it) and a second node, started through
 * the `weft` CLI as a user would, in their own processes; this test process is the driver.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, getActor, init, kill, shutdown } from '@weft/core';
import { PROTOCOL_VERSION, connectWebSocket, validateNodeMessage } from '@weft/protocol';
import { Tally, addThrough, busy, makeArray, spawnNamedTally, sumArray, whereAmI } from '../fixtures/cluster-tasks.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const WEFT = path.resolve(here, '../../bin/weft.mjs');
const FIXTURES = path.resolve(here, '../fixtures');
const MAX_FRAME = 32 * 1024 * 1024;
const env = { ...process.env, WEFT_MAX_FRAME_BYTES: String(MAX_FRAME), WEFT_LOG_LEVEL: 'warn' };

const session = mkdtempSync(path.join(os.tmpdir(), 'weft-cluster-test-'));
let url = '';
let token = '';
const weft = (...args: string[]) => run(process.execPath, [WEFT, ...args], { env, timeout: 60_000 });

function recordedPids(): number[] {
  const pids: number[] = [];
  for (const file of ['head.json', 'node-1.json']) {
    try {
      pids.push((JSON.parse(readFileSync(path.join(session, file), 'utf8')) as { pid: number }).pid);
    } catch {
      // not started
    }
  }
  return pids;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  await weft('start', '--head', '--port', '0', '--num-cpus', '1', '--resources', '{"nodeA":1}', '--session', session);
  url = (JSON.parse(readFileSync(path.join(session, 'head.json'), 'utf8')) as { url: string }).url;
  token = readFileSync(path.join(session, 'token'), 'utf8').trim();
  await weft('start', '--address', url, '--token', token, '--num-cpus', '1', '--resources', '{"nodeB":1}', '--session', session);
  await init({ address: url, token, workingDir: FIXTURES });
}, 120_000);

afterAll(async () => {
  await shutdown();
  try {
    await weft('stop', '--session', session);
  } finally {
    for (const pid of recordedPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (!process.env.KEEP) rmSync(session, { recursive: true, force: true });
  }
}, 60_000);

describe('a cluster of a head and two nodes on 127.0.0.1', () => {
  it('runs tasks on both nodes when the first is saturated', async () => {
    const nodes = await get(Array.from({ length: 12 }, () => busy.remote(250)));
    expect(new Set(nodes).size).toBe(2);
  });

  it('uses on one node a 50 MB array made on another', async () => {
    const n = 6_250_000;
    const made = makeArray.options({ resources: { nodeB: 1 } }).remote(n);
    const summed = await get(sumArray.options({ resources: { nodeA: 1 } }).remote(made));
    expect(summed.length).toBe(n);
    expect(summed.total).toBe(1.5 * n);
    const [madeOn] = await get([whereAmI.options({ resources: { nodeB: 1 } }).remote()]);
    expect(summed.nodeId).not.toBe(madeOn);
    // The driver gets it too (pulled over its WebSocket in chunks).
    const back = await get(made);
    expect(back.length).toBe(n);
    expect(back[n - 1]).toBe(1.5);
  });

  it('calls an actor on one node from a task on another', async () => {
    const tally = Tally.options({ resources: { nodeB: 0.5 } }).remote();
    const first = await get(tally.add.remote(1));
    const viaTask = await get(addThrough.options({ resources: { nodeA: 1 } }).remote(tally, 5));
    expect(viaTask.n).toBe(6);
    expect(viaTask.nodeId).toBe(first.nodeId);
    expect(viaTask.caller).not.toBe(first.nodeId);
  });

  it('refuses a taken actor name at .remote(), in the driver and in a task on the other node, as embedded mode does', async () => {
    const name = `tally-${process.pid}`;
    const first = Tally.options({ name }).remote();
    expect(() => Tally.options({ name }).remote()).toThrow(RangeError);
    expect(() => Tally.options({ name }).remote()).toThrow(`name '${name}' is taken`);
    const fromTask = await get(spawnNamedTally.options({ resources: { nodeB: 0.01 } }).remote(name));
    expect(fromTask).toMatchObject({ threw: 'RangeError', message: expect.stringContaining(`name '${name}' is taken`) as string });
    expect((await getActor<Tally>(name)).actorId).toBe(first.actorId);
    await kill(first);
    const second = Tally.options({ name }).remote();
    expect((await get(second.add.remote(2))).n).toBe(2);
    expect((await getActor<Tally>(name)).actorId).toBe(second.actorId);
    await kill(second);
  });

  it('refuses a connection with a wrong token', async () => {
    await expect(connectWebSocket({
      url, token: 'not-the-token', validate: validateNodeMessage,
      hello: { type: 'hello', version: PROTOCOL_VERSION, role: 'driver', id: 'intruder' },
    })).rejects.toThrow(/token/);
    const response = await fetch(`${url.replace('ws', 'http')}/api/status`, { headers: { authorization: 'Bearer nope' } });
    expect(response.status).toBe(401);
  });

  it('closes only the connection of a garbage, truncated or oversized frame, while tasks keep running', async () => {
    const hello = pack([{ type: 'hello', version: PROTOCOL_VERSION, role: 'driver', id: 'bad-client' }]);
    const frames = [Buffer.from('this is not msgpack at all'), pack([{ type: 'submit-task', task: { taskId: 'x' } }]).subarray(0, 9),
      Buffer.alloc(MAX_FRAME + 1024, 7)];
    for (const frame of frames) {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      ws.send(hello);
      ws.send(frame);
      const code = await closed;
      expect([4000, 1009]).toContain(code);
      // The cluster and this driver's own connection go on.
      expect(await get(whereAmI.remote())).toMatch(/^node-/);
    }
  });

  it('serves other drivers at once, each with its own job and objects', async () => {
    const project = path.resolve(FIXTURES, 'submit-project');
    const others = [1, 2].map(() => weft('submit', '--address', url, '--token', token, '--working-dir', project, '--',
      process.execPath, '--import', 'tsx', 'driver.ts'));
    const mine = await get(Array.from({ length: 6 }, () => busy.remote(50)));
    for (const { stdout } of await Promise.all(others)) expect(stdout).toContain('sum 30');
    expect(mine).toHaveLength(6);
  });

  it('reports both nodes in the state API', async () => {
    const { stdout } = await weft('status', '--json', '--session', session);
    const status = JSON.parse(stdout) as { nodes: Array<{ alive: boolean }> };
    expect(status.nodes.filter((node) => node.alive)).toHaveLength(2);
  });
});
