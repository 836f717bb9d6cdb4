/**
 * `weft job submit|list|status|logs|stop` against a real head started through the CLI: jobs run
 * on the head, outlive the `weft job submit` that sent them, stop by pid, and end with the head.
 * Every process a test starts (the cluster's, each `weft` command, each job) is ended by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../src/processes.ts';
import { CliCluster, until } from '../support/cli-cluster.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEFT = path.resolve(here, '../../bin/weft.mjs');
const PROJECT = path.resolve(here, '../fixtures/job-project');
const { WEFT_ADDRESS: _address, WEFT_TOKEN: _token, WEFT_SESSION_DIR: _session, ...inherited } = process.env;
const env = { ...inherited, WEFT_LOG_LEVEL: 'warn' };

const cluster = new CliCluster();
/** The `weft` commands and the jobs' processes: ended in afterAll whatever happened. */
const pids = new Set<number>();

interface Run { code: number | null; stdout: string; stderr: string }
interface Job { submissionId: string; state: string; pid?: number; exitCode?: number; entrypoint: string[]; startedAt?: number; endedAt?: number }

/** Starts `weft <args>` against the cluster, from the fixture project. */
function start(args: string[]): { child: ChildProcess; done: Promise<Run>; output: () => string } {
  const [command, ...rest] = args;
  const child = spawn(process.execPath, [WEFT, 'job', command as string, '--address', cluster.url, '--token', cluster.token, ...rest], {
    env, cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) pids.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, output: () => stdout };
}

/** Runs `weft job <args>` to its end. */
const job = (...args: string[]): Promise<Run> => start(args).done;

/** `weft job status ID --json`, remembering the job's pid for the cleanup. */
async function status(id: string): Promise<Job> {
  const run = await job('status', id, '--json');
  expect(run.code, run.stderr).toBe(0);
  const record = JSON.parse(run.stdout) as Job;
  if (record.pid !== undefined) pids.add(record.pid);
  return record;
}

/** Polls the job's status until it has ended. */
const ended = (id: string): Promise<Job> => until(async () => {
  const record = await status(id);
  return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(record.state) ? record : undefined;
}, `job ${id} to end`, 40_000, 200);

beforeAll(async () => {
  await cluster.startHead('--num-cpus', '2');
});

afterAll(async () => {
  for (const pid of pids) {
    if (isRunning(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
  const left = await cluster.stop();
  expect(left).toEqual([]);
  expect([...pids].filter((pid) => isRunning(pid))).toEqual([]);
});

describe('weft job', () => {
  it('runs a job submitted with --no-wait on the head, to SUCCEEDED with its output in weft job logs', async () => {
    const submit = await job('submit', '--no-wait', '--job-id', 'nowait-1', '--', process.execPath, '--import', 'tsx', 'driver.ts');
    expect(submit.code, submit.stderr).toBe(0);
    expect(submit.stdout.trim()).toBe('nowait-1');
    const record = await ended('nowait-1');
    expect(record).toMatchObject({ state: 'SUCCEEDED', exitCode: 0, entrypoint: [process.execPath, '--import', 'tsx', 'driver.ts'] });
    expect(record.endedAt).toBeGreaterThanOrEqual(record.startedAt ?? Infinity);
    const logs = await job('logs', 'nowait-1');
    expect(logs.stdout).toContain('squares 1,4,9,16');
    expect(logs.stdout).toContain('cubes 1,8,27 in nowait-1');
    // Its code is removed once it has ended; its log stays in the session's logs folder.
    await until(() => (existsSync(path.join(cluster.session, 'submissions', 'nowait-1')) ? undefined : true), 'the finished job\'s folder to go');
    expect(existsSync(path.join(cluster.session, 'logs', 'job-nowait-1.log'))).toBe(true);
    const list = await job('list', '--json');
    expect((JSON.parse(list.stdout) as Job[]).map((row) => row.submissionId)).toContain('nowait-1');
    expect((await job('list')).stdout).toMatch(/nowait-1\s+SUCCEEDED/);
  });

  it('keeps a job running when the weft job submit that follows it is SIGKILLed', async () => {
    const follower = start(['submit', '--job-id', 'followed-1', '--', process.execPath, '--import', 'tsx', 'driver.ts', '3000']);
    await until(() => (follower.output().includes('squares 1,4,9,16') ? true : undefined), 'the follower to print the first line', 30_000);
    follower.child.kill('SIGKILL');
    await follower.done;
    expect((await status('followed-1')).state).toBe('RUNNING');
    const record = await ended('followed-1');
    expect(record).toMatchObject({ state: 'SUCCEEDED', exitCode: 0 });
    expect((await job('logs', 'followed-1')).stdout).toContain('cubes 1,8,27 in followed-1');
  });

  it('follows a job to its end and exits with its exit status; the job is FAILED with that code', async () => {
    const follow = await job('submit', '--job-id', 'fails-1', '--', process.execPath, '-e', 'console.log("about to fail"); process.exit(7)');
    expect(follow.code).toBe(7);
    expect(follow.stdout).toContain('about to fail');
    expect(follow.stderr).toContain('job fails-1 FAILED: the command exited with code 7');
    expect(await status('fails-1')).toMatchObject({ state: 'FAILED', exitCode: 7 });
  });

  it('stops a long job: STOPPED, and its process is gone', async () => {
    await job('submit', '--no-wait', '--job-id', 'long-1', '--', process.execPath, '-e', 'setInterval(() => console.log("tick"), 200)');
    const running = await until(async () => {
      const record = await status('long-1');
      return record.state === 'RUNNING' ? record : undefined;
    }, 'long-1 to run');
    const pid = running.pid as number;
    expect(isRunning(pid)).toBe(true);
    const stop = await job('stop', 'long-1');
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('job long-1 STOPPED');
    expect(isRunning(pid)).toBe(false);
    expect((await status('long-1')).state).toBe('STOPPED');
    expect((await job('stop', 'long-1')).stdout).toContain('already ended: STOPPED');
  });

  it('says what is wrong: an unknown id, a bad id, a taken id, a missing command, a command the head cannot run, an unreachable head', async () => {
    const unknown = await job('status', 'no-such-job');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no job submission no-such-job on this head');
    expect(unknown.stderr).toContain('weft job list');
    const bad = await job('logs', '../etc');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not a job submission id');
    const taken = await job('submit', '--no-wait', '--job-id', 'nowait-1', '--', 'true');
    expect(taken.stderr).toContain('a job submission nowait-1 exists already');
    const missing = await job('submit', '--no-wait');
    expect(missing.stderr).toContain('needs a command after --');
    const notFound = await job('submit', '--no-wait', '--', 'no-such-command-weft');
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('cannot run no-such-command-weft on the head: command not found');
    const child = spawn(process.execPath, [WEFT, 'job', 'list', '--address', 'ws://127.0.0.1:1', '--token', 't'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid !== undefined) pids.add(child.pid);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    expect(await new Promise((resolve) => child.once('close', resolve))).toBe(1);
    expect(stderr).toContain('cannot reach the head at ws://127.0.0.1:1');
  });

  it('stops running jobs, by pid, when the head stops', async () => {
    await job('submit', '--no-wait', '--job-id', 'long-2', '--', process.execPath, '-e', 'setInterval(() => {}, 1000)');
    const running = await until(async () => {
      const record = await status('long-2');
      return record.state === 'RUNNING' ? record : undefined;
    }, 'long-2 to run');
    expect(await cluster.stop()).toEqual([]);
    await until(() => (isRunning(running.pid as number) ? undefined : true), 'the job to be gone after weft stop', 10_000);
  });
});
