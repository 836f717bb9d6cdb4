/**
 * The `weft` command as a user runs it: real processes on 127.0.0.1, a session folder of this
 * file's own (never the machine's session_latest), and every process ended by pid.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../src/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEFT = path.resolve(here, '../../bin/weft.mjs');
const PROJECT = path.resolve(here, '../fixtures/submit-project');

const root = mkdtempSync(path.join(os.tmpdir(), 'weft-cli-test-'));
const session = path.join(root, 'session');
const { WEFT_ADDRESS: _address, WEFT_TOKEN: _token, ...inherited } = process.env;
const env = { ...inherited, WEFT_LOG_LEVEL: 'warn', WEFT_SESSION_DIR: session };
/** Every pid a test saw recorded or spawned: ended in afterAll whatever happened. */
const pids = new Set<number>();

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs `weft <args>` to its end (the background head or node it starts outlives it). */
function weft(args: string[], options: { cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WEFT, ...args], { env, cwd: options.cwd ?? root, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) pids.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    // 'close', not 'exit': the pipes are drained. A background child has its own log, not these pipes.
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pids recorded in a session (`*.pid`), remembered for the final cleanup. */
function recordedPids(dir: string): number[] {
  const found: number[] = [];
  for (const name of ['head', 'node-1', 'node-2']) {
    const file = path.join(dir, `${name}.pid`);
    if (!existsSync(file)) continue;
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid > 0) {
      found.push(pid);
      pids.add(pid);
    }
  }
  return found;
}

/** Polls `check` until it returns a value (never a fixed sleep). */
async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A port nothing listens on (taken from the OS, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

afterAll(() => {
  for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('weft --help', () => {
  it('describes every command and its options', async () => {
    const top = await weft(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['start', 'stop', 'status', 'list', 'submit', 'job', 'timeline']) expect(top.stdout).toContain(command);
    const start = await weft(['start', '--help']);
    expect(start.code).toBe(0);
    for (const option of ['--head', '--address', '--port', '--num-cpus', '--resources', '--token', '--block', '--tls-cert']) {
      expect(start.stdout).toContain(option);
    }
    const list = await weft(['list', '--help']);
    expect(list.stdout).toMatch(/nodes.*actors.*tasks.*objects/);
  });

  it('refuses bad --resources JSON, naming the option', async () => {
    const run = await weft(['start', '--head', '--resources', '{gpu:1}', '--session', path.join(root, 'unused')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("option '--resources <json>' argument '{gpu:1}' is invalid");
    expect(existsSync(path.join(root, 'unused'))).toBe(false);
  });
});

describe('without a session', () => {
  it('says there is no session folder for stop and status', async () => {
    const missing = path.join(root, 'missing');
    for (const command of ['stop', 'status']) {
      const run = await weft([command, '--session', missing]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`weft: no session folder at ${missing}: check --session / WEFT_SESSION_DIR\n`);
    }
  });
});

describe('a head and a node started in the background', () => {
  let url = '';
  let token = '';
  let startOutput = '';

  beforeAll(async () => {
    const run = await weft(['start', '--head', '--port', '0', '--num-cpus', '1', '--session', session]);
    recordedPids(session);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    startOutput = run.stdout;
    url = (JSON.parse(readFileSync(path.join(session, 'head.json'), 'utf8')) as { url: string }).url;
    token = readFileSync(path.join(session, 'token'), 'utf8').trim();
  });

  it('prints the exact command that joins a node, with the token it stored (mode 0600)', () => {
    expect(startOutput).toContain(`weft start --address ${url} --token ${token}`);
    expect(startOutput).toContain(`weft submit --address ${url} --token ${token}`);
    expect(startOutput).toContain(`${url.replace('ws', 'http')}/#token=${token}`);
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(readFileSync(path.join(session, 'head.pid'), 'utf8').trim()).toMatch(/^\d+$/);
    expect(statSync(path.join(session, 'token')).mode & 0o777).toBe(0o600);
  });

  it('shows two nodes in status --json once a second node joins', async () => {
    const joined = await weft(['start', '--address', url, '--token', token, '--num-cpus', '1', '--resources', '{"gpu":1}']);
    recordedPids(session);
    expect(joined.stderr).toBe('');
    expect(joined.stdout).toContain('weft node node-1 running at ws://127.0.0.1:');
    const status = await until(async () => {
      const run = await weft(['status', '--json', '--session', session]);
      const parsed = JSON.parse(run.stdout) as { nodes: Array<{ alive: boolean }>; resources: Record<string, number> };
      return parsed.nodes.filter((node) => node.alive).length === 2 ? parsed : undefined;
    }, 'two live nodes');
    expect(status.resources).toEqual({ CPU: 2, gpu: 1 });
    const table = await weft(['status']);
    expect(table.stdout).toContain('2 nodes alive');
    expect(table.stdout).toContain('CPUs 0/2 used');
  });

  it('lists the nodes as JSON and as a table', async () => {
    const json = await weft(['list', 'nodes', '--json']);
    const nodes = JSON.parse(json.stdout) as Array<{ nodeId: string; address: string }>;
    expect(nodes.map((node) => node.address)).toContain(url);
    expect(nodes).toHaveLength(2);
    const table = await weft(['list', 'nodes']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NODE\s+ADDRESS\s+CPU USED\/TOTAL.*STATE$/);
    for (const node of nodes) expect(table.stdout).toContain(node.nodeId);
  });

  it('keeps the token out of the command line and the log of every background process (a head given --token too)', async () => {
    const other = path.join(root, 'given-token');
    const given = 'given-token-0123456789abcdef';
    const started = await weft(['start', '--head', '--port', '0', '--num-cpus', '1', '--token', given, '--session', other]);
    recordedPids(other);
    expect(started.code).toBe(0);
    // The banner for the user keeps the join command with the token.
    expect(started.stdout).toContain(`--token ${given}`);
    try {
      for (const [dir, secret] of [[session, token], [other, given]] as const) {
        const pidsHere = recordedPids(dir);
        expect(pidsHere.length).toBeGreaterThan(0);
        for (const pid of pidsHere) {
          // What `ps` shows, for the whole life of the process.
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
          expect(cmdline).toContain('--block');
          expect(cmdline, `pid ${pid}`).not.toContain(secret);
        }
        for (const log of readdirSync(path.join(dir, 'logs'))) {
          expect(readFileSync(path.join(dir, 'logs', log), 'utf8'), log).not.toContain(secret);
        }
      }
    } finally {
      await weft(['stop', '--session', other]);
    }
  });

  it('runs a driver with weft submit, which joins through WEFT_ADDRESS and WEFT_TOKEN', async () => {
    const run = await weft(['submit', '--working-dir', PROJECT, '--', process.execPath, '--import', 'tsx', 'driver.ts']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`sum 30 cwd ${PROJECT}`);
    expect(run.code).toBe(0);
    const exit = await weft(['submit', '--', process.execPath, '-e', 'console.log(process.env.WEFT_ADDRESS, process.env.WEFT_TOKEN); process.exit(3)']);
    expect(exit.stdout.trim()).toBe(`${url} ${token}`);
    expect(exit.code).toBe(3);
  });

  it('writes the recent tasks as a Chrome trace', async () => {
    const file = path.join(root, 'timeline.json');
    const run = await weft(['timeline', '--output', file]);
    expect(run.code).toBe(0);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: Array<{ name: string; ph: string }> };
    expect(trace.traceEvents.filter((event) => event.name === 'square')).toHaveLength(4);
  });

  it('refuses a wrong token with a message saying which token to use', async () => {
    const run = await weft(['status', '--token', 'not-the-token']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`weft: the head at ${url} refused the token: use the one weft start --head printed, or --token\n`);
  });

  it('says so when the head cannot be reached', async () => {
    const run = await weft(['status', '--address', `ws://127.0.0.1:${await closedPort()}`, '--token', token]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^weft: cannot reach the head at ws:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\): is it running\? start one with weft start --head\n$/);
  });

  it('fails a second head on the same port with the port-in-use message', async () => {
    const port = new URL(url).port;
    const other = path.join(root, 'second');
    const run = await weft(['start', '--head', '--port', port, '--num-cpus', '1', '--session', other]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is in use: stop what holds it or pass --port`);
    expect(existsSync(path.join(other, 'head.pid'))).toBe(false);
  });

  it('stops every process it recorded, nodes first, and leaves none behind', async () => {
    const recorded = recordedPids(session);
    expect(recorded).toHaveLength(2);
    const run = await weft(['stop', '--session', session]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^stopped node-1 \(pid \d+\)\nstopped head \(pid \d+\)\n$/);
    for (const pid of recorded) expect(isRunning(pid)).toBe(false);
    expect(recordedPids(session)).toEqual([]);
    const again = await weft(['stop', '--session', session]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to stop');
    const status = await weft(['status', '--session', session]);
    expect(status.stderr).toContain('no head runs in session');
  });
});

describe('weft start --block', () => {
  it('runs the head in the foreground and stops gracefully on SIGTERM', async () => {
    const dir = path.join(root, 'block');
    const child = spawn(process.execPath, [WEFT, 'start', '--head', '--port', '0', '--num-cpus', '1', '--block', '--session', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pid = child.pid as number;
    pids.add(pid);
    try {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      await until(() => (stdout.includes('weft start --address') ? true : undefined), 'the join command');
      const record = JSON.parse(readFileSync(path.join(dir, 'head.json'), 'utf8')) as { pid: number };
      expect(record.pid).toBe(pid);
      const status = JSON.parse((await weft(['status', '--json', '--session', dir])).stdout) as { nodes: unknown[] };
      expect(status.nodes).toHaveLength(1);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(path.join(dir, 'head.pid'))).toBe(false);
      expect(existsSync(path.join(dir, 'head.json'))).toBe(false);
    } finally {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
