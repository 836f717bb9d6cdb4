/**
 * The life of a `weft start --block` process (in a terminal, or the background child of a plain
 * `weft start`):
 *
 *   starting --listening--> running --SIGTERM/SIGINT--> stopping --> exit 0
 *       |                                                  |
 *       +--error--> exit 1 (main prints it)                +--grace period over--> exit 1
 *
 * Its pid file is written first (so `weft stop` can end it even while it starts), its readiness
 * record `<name>.json` once it listens, and both are removed when it exits.
 */
import { CliError, messageOf } from './errors.ts';
import { forget, writePid, writeRecord } from './session.ts';

/** A started head or node. */
export interface Started<R extends object> {
  /** Written to `<name>.json`, with the pid. */
  record: R;
  /** Graceful stop. */
  stop(): Promise<void>;
}

/**
 * Graceful stop must end before `weft stop` loses patience (10 s) and sends SIGKILL, so that the
 * process still removes its own files.
 */
const STOP_TIMEOUT_MS = 8_000;

/** Stops what runs, removes the session files of `name` and exits. */
async function shutdown(session: string, name: string, running: Started<object>, signal: NodeJS.Signals): Promise<never> {
  console.log(`${name}: ${signal}, stopping`);
  const timer = setTimeout(() => {
    console.error(`${name}: did not stop within ${STOP_TIMEOUT_MS / 1000} s, exiting anyway`);
    forget(session, name);
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  try {
    await running.stop();
  } catch (error) {
    console.error(`${name}: error while stopping: ${messageOf(error)}`);
  }
  clearTimeout(timer);
  forget(session, name);
  console.log(`${name}: stopped`);
  process.exit(0);
}

/**
 * Runs `start`, records readiness, calls `ready`, and from then on stops on SIGTERM/SIGINT
 * (resolving once it runs; the process lives on in its servers).
 */
export async function runForeground<R extends object>(
  session: string, name: string, start: () => Promise<Started<R>>, ready: (record: R & { pid: number }) => void,
): Promise<void> {
  writePid(session, name, process.pid);
  let started: Started<R> | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Still starting (nothing serves yet, and our worker threads end with us), or a second
    // Ctrl-C from a user who does not want to wait: leave at once.
    if (stopping || started === undefined) {
      forget(session, name);
      process.exit(stopping ? 1 : 0);
    }
    stopping = true;
    void shutdown(session, name, started, signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    started = await start();
  } catch (error) {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    forget(session, name);
    throw error instanceof CliError ? error : new CliError(messageOf(error));
  }
  const record = { ...started.record, pid: process.pid };
  writeRecord(session, name, record);
  ready(record);
}
