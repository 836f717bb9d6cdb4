/**
 * The session folder: what `weft start` leaves on this machine for `weft stop`, `status` and the
 * nodes that join later. `<tmp>/weft/session_<YYYY-MM-DD_HH-MM-SS>_<pid>/` holds
 *
 * - `token` (mode 0600): the cluster token;
 * - `head.pid`, `node-<n>.pid`: the processes started here (what `weft stop` stops);
 * - `head.json` {url, pid}, `node-<n>.json` {address, head, pid}: written by each process once it
 *   listens (readiness, and where `weft status` finds the head);
 * - `logs/`: `head.log`, `node-<n>.log` of the background processes;
 * - `nodes/<name>/`: each node's own folder (job code unpacked per job).
 *
 * `<tmp>/weft/session_latest` links to the newest session made without `--session` in which a
 * head or node started.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './errors.ts';

/** Where sessions are made. */
export const SESSIONS_ROOT = path.join(os.tmpdir(), 'weft');
/** The link to the newest session. */
export const LATEST_LINK = path.join(SESSIONS_ROOT, 'session_latest');

const pad = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD_HH-MM-SS` in local time. */
function stamp(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`;
}

/** Makes a session folder (and its logs/) if missing; returns its absolute path. */
export function ensureSession(dir: string): string {
  const absolute = path.resolve(dir);
  mkdirSync(path.join(absolute, 'logs'), { recursive: true, mode: 0o700 });
  return absolute;
}

/** A new session folder under the temp dir (link it with {@link linkLatest} once something runs there). */
export function newSession(): string {
  return ensureSession(path.join(SESSIONS_ROOT, `session_${stamp(new Date())}_${process.pid}`));
}

/**
 * Points `session_latest` at `dir`. Only once its head or node is ready: a start that fails
 * must not hide the session of a cluster that still runs from `weft stop` and `weft status`.
 */
export function linkLatest(dir: string): void {
  // Replace the link atomically: a new link under a temporary name, renamed over the old one.
  const temporary = `${LATEST_LINK}.${process.pid}`;
  rmSync(temporary, { force: true });
  symlinkSync(dir, temporary);
  renameSync(temporary, LATEST_LINK);
}

/** The session named by `--session` or `WEFT_SESSION_DIR`, if any. */
export function explicitSession(option: string | undefined): string | undefined {
  const given = option ?? process.env.WEFT_SESSION_DIR;
  return given ? path.resolve(given) : undefined;
}

/**
 * The session to read: `--session`, else `WEFT_SESSION_DIR`, else the one `session_latest` links
 * to. Undefined when there is none; a named folder that does not exist is an error.
 */
export function findSession(option: string | undefined): string | undefined {
  const explicit = explicitSession(option);
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new CliError(`no session folder at ${explicit}: check --session / WEFT_SESSION_DIR`);
    return explicit;
  }
  try {
    return realpathSync(LATEST_LINK);
  } catch {
    return undefined;
  }
}

/** Writes a file whole or not at all (a reader polling for it never sees half of it). */
export function writeFileAtomic(file: string, text: string, mode = 0o644): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, file);
}

/** Stores the cluster token, readable by this user only. */
export function writeToken(dir: string, token: string): void {
  writeFileAtomic(path.join(dir, 'token'), `${token}\n`, 0o600);
}

/** The session's token, if it has one. */
export function readToken(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  try {
    return readFileSync(path.join(dir, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A JSON file of the session (`head.json`, `node-1.json`), or undefined if absent or unreadable. */
export function readRecord<T>(dir: string, name: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes `<name>.json` atomically. */
export function writeRecord(dir: string, name: string, value: object): void {
  writeFileAtomic(path.join(dir, `${name}.json`), `${JSON.stringify(value)}\n`);
}

/** Records the pid of the process `name` (`head`, `node-1`). */
export function writePid(dir: string, name: string, pid: number): void {
  writeFileAtomic(path.join(dir, `${name}.pid`), `${pid}\n`);
}

/** The recorded pid of `name`, if any. */
export function readPid(dir: string, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, `${name}.pid`), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the pid and readiness files of `name`. */
export function forget(dir: string, name: string): void {
  rmSync(path.join(dir, `${name}.pid`), { force: true });
  rmSync(path.join(dir, `${name}.json`), { force: true });
}

/** The names with a pid file: nodes (in order) then `head`. */
export function recordedNames(dir: string): string[] {
  const names = readdirSync(dir).filter((file) => file.endsWith('.pid')).map((file) => file.slice(0, -'.pid'.length));
  const nodes = names.filter((name) => /^node-\d+$/.test(name)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return [...nodes, ...(names.includes('head') ? ['head'] : [])];
}

/**
 * Claims the next free `node-<n>` of the session by creating its pid file exclusively, so that
 * two nodes started at once never share a name.
 */
export function reserveNodeName(dir: string): string {
  for (let n = 1; ; n++) {
    const name = `node-${n}`;
    try {
      closeSync(openSync(path.join(dir, `${name}.pid`), 'wx'));
      return name;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
