/**
 * Signalling the processes a session recorded, by pid only: SIGTERM, a grace period polled with
 * signal 0, then SIGKILL.
 */
import { readFileSync } from 'node:fs';

/** How long a process may take to stop after SIGTERM. */
export const STOP_GRACE_MS = 10_000;
/** How long to wait for the kernel after SIGKILL. */
const KILL_WAIT_MS = 2_000;
const POLL_MS = 50;

/** Linux's view of a process: its state letter and command line; undefined elsewhere or when gone. */
function procInfo(pid: number): { state: string; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces and parentheses: the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return { state, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') };
  } catch {
    return undefined;
  }
}

/** Whether the process exists and has not exited (a zombie, exited but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return procInfo(pid)?.state !== 'Z';
}

/**
 * Whether `pid` still runs weft, so that a pid file left by a process that died long ago never
 * makes us signal whatever process reused its number. Without /proc, we can only trust the file.
 */
export function isWeftProcess(pid: number): boolean {
  if (!isRunning(pid)) return false;
  const info = procInfo(pid);
  return info === undefined || info.cmdline.includes('weft');
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

/** How a process ended: `stopped` (SIGTERM), `killed` (SIGKILL after the grace period), `stuck` (still there). */
export type StopOutcome = 'stopped' | 'killed' | 'stuck';

/** SIGTERM, wait up to `graceMs`, then SIGKILL. */
export async function terminate(pid: number, graceMs = STOP_GRACE_MS): Promise<StopOutcome> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  if (await waitGone(pid, graceMs)) return 'stopped';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'killed';
  }
  return (await waitGone(pid, KILL_WAIT_MS)) ? 'killed' : 'stuck';
}
