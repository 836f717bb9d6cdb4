/**
 * Several simulated hosts on this machine, for tests of cluster mode the way users run it: each
 * host is a network namespace with its own address, joined by a veth pair to a bridge in the
 * root namespace (where the test process, the driver, runs), and its own TMPDIR, so its session
 * folders live apart as on separate machines (see /work/shared/TESTING.md).
 *
 * Host i is 10.251.S.i, the driver 10.251.S.254; S and every name come from the test's pid, so
 * parallel runs never collide. Every process the CLI starts on a host is found by the pid its
 * session folder records, remembered, and ended by that pid in {@link SimulatedHosts.destroy}.
 *
 * ```ts
 * const reason = SimulatedHosts.unavailable();
 * describe.skipIf(reason)('three hosts', () => {
 *   const hosts = new SimulatedHosts();
 *   beforeAll(() => hosts.create(3));
 *   afterAll(async () => expect(await hosts.destroy()).toEqual([]));
 *   it('…', async () => { await hosts.weft(1, 'start', '--head', '--host', '0.0.0.0'); });
 * });
 * ```
 */
import { execFile, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWeftProcess } from '../../src/processes.ts';
import { until } from './cli-cluster.ts';

const WEFT = fileURLToPath(new URL('../../bin/weft.mjs', import.meta.url));
/** The first three octets of every address: 10.251.S.x. */
const PREFIX = '10.251';
/** The driver's (root namespace's) last octet. */
const DRIVER_OCTET = 254;
/** How long a `weft` command may take. */
const COMMAND_TIMEOUT_MS = 60_000;
/** How long an `ip` command may take. */
const IP_TIMEOUT_MS = 10_000;
/** How long a SIGKILLed process may take to be gone. */
const GONE_TIMEOUT_MS = 10_000;

/** A host, numbered from 1. */
export type Host = number;

/** What a command printed. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** A `weft` command that exited with an error (or ran out of time): its message holds its output. */
export class WeftCommandError extends Error {
  constructor(readonly args: string[], readonly host: Host, readonly exit: string, readonly stdout: string, readonly stderr: string) {
    super(`weft ${args.join(' ')} on host ${host} ${exit}:\n${stderr.trimEnd()}\n${stdout.trimEnd()}`.trimEnd());
    this.name = 'WeftCommandError';
  }
}

/** Options of {@link SimulatedHosts}. */
export interface SimulatedHostsOptions {
  /** Added to the environment of every command. @default { WEFT_LOG_LEVEL: 'info' } (logs go to the session's logs/) */
  env?: Record<string, string>;
  /** How long a `weft` command may take. @default 60_000 */
  commandTimeoutMs?: number;
}

/** How a command that failed ended. */
interface Failure {
  /** True when it was killed for running out of time. */
  killed?: boolean;
  signal?: NodeJS.Signals | null;
  code?: string | number | null;
  message: string;
}

function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout: number }): Promise<CommandOutput & { error?: Failure }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, ...(error ? { error } : {}) });
    });
  });
}

async function ip(...args: string[]): Promise<void> {
  const { error, stderr } = await run('ip', args, { timeout: IP_TIMEOUT_MS });
  if (error) throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || error.message}`);
}

/** Why `ip netns` cannot be used here, or undefined if it can. */
function probe(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root, as CI does)';
  if (spawnSync('ip', ['-V']).error) return 'no `ip` binary (iproute2) on PATH';
  const name = `wf${process.pid}probe`;
  const added = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
  if (added.status !== 0) return `\`ip netns add\` fails here: ${(added.stderr || String(added.error)).trim()}`;
  try {
    const exec = spawnSync('ip', ['netns', 'exec', name, 'true'], { encoding: 'utf8', timeout: IP_TIMEOUT_MS });
    if (exec.status !== 0) return `\`ip netns exec\` fails here: ${(exec.stderr || String(exec.error)).trim()}`;
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'del', name], { timeout: IP_TIMEOUT_MS });
  }
}

/** The /24s (third octets under 10.251) that the root namespace already has an address in. */
function subnetsInUse(): Set<number> {
  const out = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: IP_TIMEOUT_MS }).stdout ?? '';
  return new Set([...out.matchAll(/inet 10\.251\.(\d+)\./g)].map((match) => Number(match[1])));
}

let instances = 0;
let checked: { reason: string | undefined } | undefined;

export class SimulatedHosts {
  /**
   * Why simulated hosts cannot run here (not root, no `ip`, `ip netns add` fails), or undefined
   * when they can. Checked once; the reason is printed once, so that whoever sees the tests skip
   * knows why.
   */
  static unavailable(): string | undefined {
    if (checked === undefined) {
      checked = { reason: probe() };
      if (checked.reason !== undefined) console.warn(`multi-host tests skipped: ${checked.reason}`);
    }
    return checked.reason;
  }

  /** `wf<pid><letter>`: the start of every name this instance makes (and all that destroy removes). */
  readonly #tag = `wf${process.pid}${String.fromCharCode(97 + instances++)}`;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;
  /** Every pid a host's sessions recorded, with its host. */
  readonly #pids = new Map<number, Host>();
  #subnet = 0;
  #root = '';
  #count = 0;

  constructor(options: SimulatedHostsOptions = {}) {
    // One letter per instance keeps names within 15 characters; a 27th would share a tag.
    if (instances > 26) throw new Error('at most 26 SimulatedHosts per process');
    const { WEFT_ADDRESS: _address, WEFT_TOKEN: _token, WEFT_SESSION_DIR: _session, ...inherited } = process.env;
    this.#env = { ...inherited, WEFT_LOG_LEVEL: 'info', ...options.env };
    this.#timeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  }

  /** The third octet S of 10.251.S.0/24 (0 before create). */
  get subnet(): number {
    return this.#subnet;
  }

  /** How many hosts there are. */
  get count(): number {
    return this.#count;
  }

  /** The folder that holds every host's TMPDIR. */
  get root(): string {
    return this.#root;
  }

  /** The driver's address: the root namespace on the bridge, 10.251.S.254. */
  get driverAddress(): string {
    return `${PREFIX}.${this.#subnet}.${DRIVER_OCTET}`;
  }

  /** Host i's address, 10.251.S.i. */
  address(host: Host): string {
    this.#check(host);
    return `${PREFIX}.${this.#subnet}.${host}`;
  }

  /** Host i's network namespace. */
  namespace(host: Host): string {
    return `${this.#tag}n${host}`;
  }

  /** Host i's TMPDIR: its sessions are under `<it>/weft/`. */
  tmpdir(host: Host): string {
    this.#check(host);
    return path.join(this.#root, `host-${host}`);
  }

  #bridge(): string {
    return `${this.#tag}br`;
  }

  /** The root side of host i's veth pair (what cut and heal set down and up). */
  #veth(host: Host): string {
    return `${this.#tag}v${host}`;
  }

  #check(host: Host): void {
    if (!Number.isInteger(host) || host < 1 || host > this.#count) throw new RangeError(`host must be 1..${this.#count}, got ${host}`);
  }

  /** Makes the bridge and `count` hosts on it, each with its TMPDIR. Call once. */
  async create(count: number): Promise<void> {
    if (this.#root !== '') throw new Error('create() was called already: make another SimulatedHosts');
    if (!Number.isInteger(count) || count < 1 || count > 200) throw new RangeError(`count must be 1..200, got ${count}`);
    this.#subnet = this.#pickSubnet();
    this.#root = mkdtempSync(path.join(os.tmpdir(), 'weft-hosts-'));
    await ip('link', 'add', this.#bridge(), 'type', 'bridge');
    await ip('addr', 'add', `${this.driverAddress}/24`, 'dev', this.#bridge());
    await ip('link', 'set', this.#bridge(), 'up');
    for (let host = 1; host <= count; host++) {
      this.#count = host;
      mkdirSync(this.tmpdir(host));
      await this.#addHost(host);
    }
  }

  async #addHost(host: Host): Promise<void> {
    const [ns, veth, peer] = [this.namespace(host), this.#veth(host), `${this.#tag}p${host}`];
    await ip('netns', 'add', ns);
    await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', peer);
    await ip('link', 'set', peer, 'netns', ns);
    await ip('link', 'set', veth, 'master', this.#bridge());
    await ip('link', 'set', veth, 'up');
    await ip('-n', ns, 'addr', 'add', `${this.address(host)}/24`, 'dev', peer);
    await ip('-n', ns, 'link', 'set', peer, 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }

  /** S from the pid, moved on past any 10.251.S.0/24 the root namespace already uses (another run's). */
  #pickSubnet(): number {
    const used = subnetsInUse();
    const first = (process.pid + instances * 37) % 250;
    for (let k = 0; k < 250; k++) {
      const subnet = ((first + k) % 250) + 1;
      if (!used.has(subnet)) return subnet;
    }
    throw new Error('every 10.251.S.0/24 is in use: remove the bridges of runs that did not clean up');
  }

  /**
   * Runs the real CLI on a host (`ip netns exec NS env TMPDIR=… node bin/weft.mjs …`) and
   * remembers the pids its sessions then record (what `weft start` spawned). Throws a
   * {@link WeftCommandError} with the output if it fails or runs out of time.
   */
  async weft(host: Host, ...args: string[]): Promise<CommandOutput> {
    const tmpdir = this.tmpdir(host);
    const command = ['netns', 'exec', this.namespace(host), 'env', `TMPDIR=${tmpdir}`, process.execPath, WEFT, ...args];
    const { stdout, stderr, error } = await run('ip', command, { env: { ...this.#env, TMPDIR: tmpdir }, timeout: this.#timeoutMs });
    this.#remember(host);
    if (error) {
      const exit = error.killed === true ? `ran out of its ${this.#timeoutMs} ms` : `failed (${error.signal ?? `exit code ${String(error.code)}`})`;
      throw new WeftCommandError(args, host, exit, stdout, stderr);
    }
    return { stdout, stderr };
  }

  /** Host i's session folders (`<TMPDIR>/weft/session_*`, not the `session_latest` link). */
  sessions(host: Host): string[] {
    const dir = path.join(this.tmpdir(host), 'weft');
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return [];
    }
    return entries.map((entry) => path.join(dir, entry)).filter((entry) => path.basename(entry).startsWith('session_') && lstatSync(entry).isDirectory());
  }

  /** Adds the pids in host i's sessions' `*.pid` and `*.json` files. */
  #remember(host: Host): void {
    for (const session of this.sessions(host)) {
      for (const file of readdirSync(session)) {
        if (!file.endsWith('.pid') && !file.endsWith('.json')) continue;
        let pid: unknown;
        try {
          const text = readFileSync(path.join(session, file), 'utf8');
          pid = file.endsWith('.pid') ? Number(text.trim()) : (JSON.parse(text) as { pid?: unknown }).pid;
        } catch {
          continue; // being written, or not a record
        }
        if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0) this.#pids.set(pid, host);
      }
    }
  }

  /** Every pid remembered (of host i, or of all hosts). */
  pids(host?: Host): number[] {
    return [...this.#pids].filter(([, of]) => host === undefined || of === host).map(([pid]) => pid);
  }

  /** The remembered pids that still run weft. */
  running(): number[] {
    return this.pids().filter((pid) => isWeftProcess(pid));
  }

  /** Cuts host i off the network (its veth down on the bridge side). */
  async cut(host: Host): Promise<void> {
    this.#check(host);
    await ip('link', 'set', this.#veth(host), 'down');
  }

  /** Puts host i back on the network. */
  async heal(host: Host): Promise<void> {
    this.#check(host);
    await ip('link', 'set', this.#veth(host), 'up');
  }

  /** Names of this instance's namespaces and links that still exist (none after destroy). */
  leftovers(): string[] {
    const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
    const names = [...netns.matchAll(/^(\S+)/gm), ...links.matchAll(/^\d+: ([^:@\s]+)/gm)].map((match) => match[1] as string);
    return names.filter((name) => name.startsWith(this.#tag));
  }

  /**
   * `weft stop` in every session of every host, SIGKILL by pid for whatever of the remembered
   * pids still runs, then removes the namespaces, veths, bridge and TMPDIRs (kept with KEEP=1).
   * Returns the pids still running after all that (none, unless something is badly wrong).
   * Safe after a failure halfway through create, and to call twice.
   */
  async destroy(): Promise<number[]> {
    const hosts = Array.from({ length: this.#count }, (_, i) => i + 1);
    await Promise.all(hosts.map(async (host) => {
      this.#remember(host);
      for (const session of this.sessions(host)) await this.weft(host, 'stop', '--session', session).catch(() => {});
    }));
    for (const pid of this.running()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await until(() => (this.running().length === 0 ? true : undefined), 'killed processes to be gone', GONE_TIMEOUT_MS, 20).catch(() => {});
    await this.#removeNetwork();
    if (this.#root !== '' && !process.env.KEEP) rmSync(this.#root, { recursive: true, force: true });
    return this.running();
  }

  /**
   * Removes every namespace and link named with this instance's tag, whatever create got to: the
   * tag holds this process's pid, so nothing of another run's is touched.
   */
  async #removeNetwork(): Promise<void> {
    const netns = (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((line) => line.split(' ')[0]);
    // Deleting a namespace deletes the veth end in it, and with it the pair; what links are left
    // after that are the bridge and any veth whose peer never got into its namespace.
    for (const name of this.leftovers()) if (netns.includes(name)) await ip('netns', 'del', name).catch(() => {});
    for (const name of this.leftovers()) await ip('link', 'del', name).catch(() => {});
  }
}
