/**
 * `weft stop`: ends what `weft start` started in a session, nodes first (so they do not try to
 * reach a head that is going away), then the head; removes their pid and readiness files.
 */
import { LATEST_LINK, findSession, forget, readPid, recordedNames } from './session.ts';
import { STOP_GRACE_MS, isWeftProcess, terminate } from './processes.ts';

/** Options of `weft stop`. */
export interface StopOptions {
  /** Session folder. @default WEFT_SESSION_DIR, else session_latest */
  session?: string;
}

/** Stops one recorded process and says what happened. */
async function stopOne(session: string, name: string): Promise<string> {
  const pid = readPid(session, name);
  if (pid === undefined || !isWeftProcess(pid)) {
    forget(session, name);
    return `${name}${pid === undefined ? '' : ` (pid ${pid})`} was not running`;
  }
  const outcome = await terminate(pid);
  if (outcome === 'stuck') return `${name} (pid ${pid}) is still there after SIGKILL`;
  forget(session, name);
  return outcome === 'stopped' ? `stopped ${name} (pid ${pid})` : `killed ${name} (pid ${pid}): it did not stop within ${STOP_GRACE_MS / 1000} s of SIGTERM`;
}

/** Runs `weft stop`. Exits 0 when nothing runs; 1 if a process could not be ended. */
export async function stop(options: StopOptions): Promise<void> {
  const session = findSession(options.session);
  if (session === undefined) {
    console.log(`nothing to stop: no weft session on this machine (no ${LATEST_LINK}; pass --session DIR for another one)`);
    return;
  }
  const names = recordedNames(session);
  if (names.length === 0) {
    console.log(`nothing to stop: nothing runs in session ${session}`);
    return;
  }
  const nodes = names.filter((name) => name !== 'head');
  const lines = await Promise.all(nodes.map((name) => stopOne(session, name)));
  if (names.includes('head')) lines.push(await stopOne(session, 'head'));
  console.log(lines.join('\n'));
  if (lines.some((line) => line.includes('still there'))) process.exitCode = 1;
}
