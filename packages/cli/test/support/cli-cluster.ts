/**
 * A real cluster on 127.0.0.1 started through the `weft` CLI, for integration tests that kill its
 * processes (as Ray's `cluster_utils.Cluster`: add_node, remove_node). Its session folder is its
 * own; every process is found by the pid its session records, remembered, and ended by that pid
 * in `stop()`, which then says which of them, if any, is still running.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isRunning } from '../../src/processes.ts';

const run = promisify(execFile);
const WEFT = fileURLToPath(new URL('../../bin/weft.mjs', import.meta.url));
/** How long a killed process may take to be gone. */
const GONE_TIMEOUT_MS = 10_000;

/** Options that pin a task to the node holding custom resource `name` (a little of it is enough). */
export const pinnedTo = (name: string): { resources: Record<string, number> } => ({ resources: { [name]: 0.01 } });

/** A node started through `weft start --address`. */
export interface CliNode {
  /** `node-<n>` in the session. */
  name: string;
  nodeId: string;
  /** ws:// URL drivers and peers reach it at. */
  address: string;
  pid: number;
}

/** Polls `check` until it returns a value other than undefined (never a fixed sleep). */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export class CliCluster {
  readonly session = mkdtempSync(path.join(os.tmpdir(), 'weft-chaos-'));
  /** Every pid this cluster's session recorded: ended in stop() whatever happened. */
  readonly #pids = new Set<number>();
  readonly #env: NodeJS.ProcessEnv;
  url = '';
  token = '';
  port = 0;
  headPid = 0;
  #headArgs: string[] = [];

  /** @param bin the `weft` command to run (default: this checkout's; a test of an installed copy passes its own). */
  constructor(env: Record<string, string> = {}, private readonly bin = WEFT) {
    const { WEFT_ADDRESS: _address, WEFT_TOKEN: _token, WEFT_SESSION_DIR: _session, ...inherited } = process.env;
    this.#env = { ...inherited, WEFT_LOG_LEVEL: 'warn', ...env };
  }

  async #weft(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [this.bin, ...args], { env: this.#env, timeout: 60_000 });
    return stdout;
  }

  #record<T>(name: string): T {
    return JSON.parse(readFileSync(path.join(this.session, `${name}.json`), 'utf8')) as T;
  }

  /** `weft start --head` on a free port (its node beside it has `args`, e.g. `--num-cpus 1`). */
  async startHead(...args: string[]): Promise<void> {
    this.#headArgs = args;
    await this.#weft('start', '--head', '--port', '0', ...args, '--session', this.session);
    const head = this.#record<{ url: string; pid: number }>('head');
    this.url = head.url;
    this.port = Number(new URL(head.url).port);
    this.headPid = head.pid;
    this.#pids.add(head.pid);
    this.token = readFileSync(path.join(this.session, 'token'), 'utf8').trim();
  }

  /** `weft start --address …`: a node with `cpus` CPUs and custom `resources` (and more `args`, e.g. `--object-store-memory 5MB`). */
  async addNode(cpus: number, resources: Record<string, number> = {}, ...args: string[]): Promise<CliNode> {
    const out = await this.#weft('start', '--address', this.url, '--token', this.token, '--num-cpus', String(cpus),
      '--resources', JSON.stringify(resources), ...args, '--session', this.session);
    const name = /weft node (node-\d+) running/.exec(out)?.[1];
    if (name === undefined) throw new Error(`weft start printed no node name:\n${out}`);
    const record = this.#record<{ address: string; nodeId: string; pid: number }>(name);
    this.#pids.add(record.pid);
    return { name, nodeId: record.nodeId, address: record.address, pid: record.pid };
  }

  /** SIGKILL a process by its pid and wait until it is gone. */
  async kill(pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
    await until(() => (isRunning(pid) ? undefined : true), `pid ${pid} to be gone after SIGKILL`, GONE_TIMEOUT_MS, 10);
  }

  /** SIGKILL the head's process (and with it the node beside it). */
  async killHead(): Promise<void> {
    await this.kill(this.headPid);
  }

  /** Start the head again on its port, with its token and session: nodes reconnect by themselves. */
  async restartHead(): Promise<void> {
    await this.#weft('start', '--head', '--port', String(this.port), '--token', this.token, ...this.#headArgs, '--session', this.session);
    this.headPid = this.#record<{ pid: number }>('head').pid;
    this.#pids.add(this.headPid);
  }

  /** GET `pathname` of the head's HTTP API, with the token; an error unless 2xx. */
  async get(pathname: string): Promise<Response> {
    const response = await fetch(`${this.url.replace(/^ws/, 'http')}${pathname}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!response.ok) throw new Error(`GET ${pathname}: HTTP ${response.status}`);
    return response;
  }

  /** The nodes the head lists as alive. */
  async liveNodes(): Promise<Array<{ nodeId: string; resources: Record<string, number> }>> {
    const nodes = (await (await this.get('/api/nodes')).json()) as Array<{ nodeId: string; alive: boolean; resources: Record<string, number> }>;
    return nodes.filter((node) => node.alive);
  }

  /**
   * The two-node cluster of the cross-node tests: the head's node with 1 CPU and resource `a`, a
   * second node with 1 CPU and resource `b` (so `pinnedTo('a' | 'b')` picks the node), both
   * live. Returns the second node.
   */
  async startPair(): Promise<CliNode> {
    await this.startHead('--num-cpus', '1', '--resources', '{"a":1}');
    const nodeB = await this.addNode(1, { b: 1 });
    await until(async () => ((await this.liveNodes()).length === 2 ? true : undefined), 'two live nodes');
    return nodeB;
  }

  /**
   * `weft stop`, then SIGKILL for anything it left; removes the session. Returns the pids still
   * running after all that (none, unless something is badly wrong).
   */
  async stop(): Promise<number[]> {
    try {
      await this.#weft('stop', '--session', this.session);
    } catch {
      // whatever stop could not end is killed below
    }
    for (const pid of this.#pids) if (isRunning(pid)) await this.kill(pid).catch(() => {});
    const left = [...this.#pids].filter((pid) => isRunning(pid));
    if (!process.env.KEEP) rmSync(this.session, { recursive: true, force: true });
    return left;
  }
}
