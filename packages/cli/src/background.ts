/**
 * Starting a head or a node in the background: the same `weft start` command again, with
 * `--block`, as a detached child whose output goes to the session's log, then waiting until it
 * says it listens (its `<name>.json` appears) or it exits (its log says why).
 *
 * The cluster token never goes on the child's command line, which `ps` shows to every user of the
 * machine for the child's whole life: `--token` is taken out of the arguments it is given, and
 * the token reaches it in its environment (WEFT_TOKEN, readable by this user only) or, for a head,
 * in the session's token file (mode 0600).
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.ts';
import { forget, readRecord, writePid } from './session.ts';

/** The `weft` executable script. */
export const BIN = fileURLToPath(new URL('../bin/weft.mjs', import.meta.url));

/** How long a background process may take to listen. */
const READY_TIMEOUT_MS = 60_000;
/** How often the readiness file is looked for. */
const POLL_MS = 50;
/** How much of the log to show when the child fails. */
const LOG_TAIL_LINES = 15;

/** What {@link startInBackground} runs. */
export interface BackgroundOptions {
  /** Session folder. */
  session: string;
  /** `head` or `node-<n>`: names its pid, readiness and log files. */
  name: string;
  /** The user's `weft start` arguments, repeated for the child (without `--token`). */
  args: string[];
  /** The cluster token, passed in the child's environment; absent: the child reads the session's file. */
  token?: string;
  /** What the child is, in messages: `the head`, `node node-1`. */
  what: string;
}

/** What a background process writes once it listens. */
export interface ReadyRecord {
  pid: number;
}

/**
 * Spawns `weft <args> --block --daemon --session <dir>` detached (it outlives this command, with
 * its own process group and this environment), records its pid, and resolves with its
 * readiness record. Throws a CliError with the tail of its log if it exits first.
 */
export async function startInBackground<T extends ReadyRecord>(options: BackgroundOptions): Promise<T> {
  const logFile = path.join(options.session, 'logs', `${options.name}.log`);
  // A record left by an earlier run must not pass for this one's readiness. (The pid file stays:
  // for a node it is the reservation of its name.)
  rmSync(path.join(options.session, `${options.name}.json`), { force: true });
  const log = openSync(logFile, 'a', 0o600);
  const logStart = fstatSync(log).size;
  const child = spawn(process.execPath, [BIN, ...withoutToken(options.args), '--block', '--daemon', '--session', options.session], {
    detached: true,
    stdio: ['ignore', log, log],
    // Background logs are for reading later: info unless the user chose a level.
    env: { ...process.env, WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'info', ...(options.token !== undefined ? { WEFT_TOKEN: options.token } : {}) },
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new CliError(`cannot start ${options.what}: spawning ${process.execPath} failed`);
  writePid(options.session, options.name, pid);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  });
  child.unref();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const record = readRecord<T>(options.session, options.name);
    if (record?.pid === pid) return record;
    if (exited !== undefined) {
      forget(options.session, options.name);
      throw new CliError(`${options.what} ${exited} before it was ready (log: ${logFile}):\n${tail(logFile, logStart)}`);
    }
    if (Date.now() > deadline) {
      throw new CliError(`${options.what} (pid ${pid}) did not get ready within ${READY_TIMEOUT_MS / 1000} s: see ${logFile}, and stop it with weft stop`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** `args` without `--token T` and `--token=T`. */
export function withoutToken(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--token') i += 1; // and its value
    else if (!arg.startsWith('--token=')) kept.push(arg);
  }
  return kept;
}

/** The last lines written to `file` since `from`, indented. */
function tail(file: string, from: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 16_384);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES);
    return lines.map((line) => `  ${line}`).join('\n') || '  (the log is empty)';
  } finally {
    closeSync(fd);
  }
}
