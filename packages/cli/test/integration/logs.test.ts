/**
 * Task output in a cluster started through the CLI: a driver process attached to the head's node
 * runs a task and an actor on the second node (resource b); its stdout and stderr show their
 * lines with that node's prefix, the last line of the task included, before the driver's own line
 * with the result; then `weft logs --task` and `--job` print the lines the node kept.
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_LINE as PREFIX, runDriverProcess, type DriverRun } from '../../../core/test/support/driver-process.ts';
import { CliCluster, until, type CliNode } from '../support/cli-cluster.ts';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const WEFT = fileURLToPath(new URL('../../bin/weft.mjs', import.meta.url));

const cluster = new CliCluster();
let nodeB: CliNode;

beforeAll(async () => {
  nodeB = await cluster.startPair();
}, 120_000);

afterAll(async () => {
  expect(await cluster.stop()).toEqual([]);
}, 60_000);

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
const env = (): NodeJS.ProcessEnv => ({ ...process.env, WEFT_ADDRESS: cluster.url, WEFT_TOKEN: cluster.token, WEFT_LOG_LEVEL: 'warn' });

const runDriver = (): Promise<DriverRun> => runDriverProcess('printing-cluster-driver.ts', [], { cwd: FIXTURES, env: env() });

describe('task output in a cluster', () => {
  let taskId = '';
  let jobId = '';
  let jobLines: string[] = [];

  it('reaches a driver attached to the head\'s node from a task and an actor on the second node, before their results', async () => {
    const { stdout, stderr, code } = await runDriver();
    expect(code).toBe(0);
    expect(stdout).toContain(`driver: shout ran on ${nodeB.nodeId}`);
    taskId = /^driver: task (\S+)$/.exec(stdout.find((line) => line.startsWith('driver: task ')) ?? '')?.[1] ?? '';
    jobId = /^driver: job (\S+)$/.exec(stdout.find((line) => line.startsWith('driver: job ')) ?? '')?.[1] ?? '';
    const shout = stdout.map((line) => PREFIX.exec(line)).filter((m) => m?.[1] === 'shout');
    expect(shout.map((m) => m![5])).toEqual([`hello from ${nodeB.nodeId}`, 'last hello']);
    // Where it ran: the second node's process and id.
    expect(shout[0]![3]).toBe(nodeB.nodeId);
    expect(Number(shout[0]![2])).toBe(nodeB.pid);
    expect(shout[0]![4]).toBe('127.0.0.1');
    // The lines came before the result.
    expect(stdout.findIndex((line) => line.includes('last hello'))).toBeLessThan(stdout.findIndex((line) => line.startsWith('driver: shout ran on')));
    expect(stderr.filter((line) => line.startsWith('(shout '))).toEqual([expect.stringMatching(/ hello on stderr$/)]);
    const echo = stdout.filter((line) => line.startsWith('(Echo.say '));
    expect(echo).toEqual([expect.stringMatching(new RegExp(`node=${nodeB.nodeId} .*\\) echo ping$`))]);
    expect(stdout.findIndex((line) => line.startsWith('(Echo.say '))).toBeLessThan(stdout.findIndex((line) => line.startsWith('driver: echo ran on')));
    jobLines = stdout.filter((line) => PREFIX.test(line));
  }, 90_000);

  it('weft logs --task prints the lines the node kept of that task, with the same prefixes', async () => {
    expect(taskId).not.toBe('');
    const { stdout, stderr } = await run(process.execPath, [WEFT, 'logs', '--task', taskId, '--address', cluster.url, '--token', cluster.token],
      { env: env(), timeout: 30_000 });
    expect(lines(stdout)).toEqual(jobLines.filter((line) => line.startsWith('(shout ')));
    expect(lines(stderr)).toEqual([expect.stringMatching(/^\(shout pid=\d+ node=node-[\w-]+ ip=[\d.]+\) hello on stderr$/)]);
  }, 60_000);

  it('weft logs --job prints every line of the job, and --follow goes on until it is ended', async () => {
    const { stdout } = await run(process.execPath, [WEFT, 'logs', '--job', jobId, '--address', cluster.url, '--token', cluster.token],
      { env: env(), timeout: 30_000 });
    expect(lines(stdout)).toEqual(jobLines);
    const follower = spawn(process.execPath, [WEFT, 'logs', '--job', jobId, '--follow', '--address', cluster.url, '--token', cluster.token],
      { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let followed = '';
      follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
      await until(() => (lines(followed).length >= jobLines.length ? true : undefined), 'weft logs --follow to print the job\'s lines', 20_000);
      // It does not end by itself, and prints no line twice.
      expect(follower.exitCode).toBeNull();
      expect(lines(followed)).toEqual(jobLines);
    } finally {
      if (follower.exitCode === null && follower.signalCode === null) process.kill(follower.pid as number, 'SIGTERM');
    }
  }, 60_000);

  it('the state API gives a task\'s lines at /api/tasks/<id>/logs', async () => {
    const response = await fetch(`${cluster.url.replace(/^ws/, 'http')}/api/tasks/${taskId}/logs`, { headers: { authorization: `Bearer ${cluster.token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Array<{ taskId: string; name: string; stream: string; text: string; nodeId: string; pid: number }>;
    expect(body.map((line) => [line.stream, line.text])).toEqual([['stdout', `hello from ${nodeB.nodeId}`], ['stderr', 'hello on stderr'], ['stdout', 'last hello']]);
    expect(new Set(body.map((line) => line.nodeId))).toEqual(new Set([nodeB.nodeId]));
  }, 30_000);
});
