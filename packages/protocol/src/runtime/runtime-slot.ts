/**
 * The runtime of this thread (the driver's after init(), or a worker's). Kept in a module of its
 * own, importing only the error classes (which import nothing), so that anything (the codec's
 * actor-handle extension included) can reach the runtime without an import cycle; and on
 * globalThis, so that two copies of this module (a test runner's and Node's) still share one
 * runtime.
 */
import { ERROR_CODES, SystemError } from '../errors.ts';
import type { ClientRuntime } from './client-runtime.ts';

const SLOT = Symbol.for('weft.runtime');
type Slot = { [SLOT]?: ClientRuntime };

/** The runtime of this thread, if init() ran (driver) or the thread is a worker. */
export function currentRuntime(): ClientRuntime | undefined {
  return (globalThis as Slot)[SLOT];
}

/** The runtime of this thread; `what` (e.g. `'get()'`) was called before init() when there is none. */
export function requireRuntime(what: string): ClientRuntime {
  const runtime = currentRuntime();
  if (!runtime) throw new SystemError(`${what} was called before init(): call await init() first`, ERROR_CODES.NOT_INITIALIZED);
  return runtime;
}

/** @internal Install (or clear) the runtime of this thread. */
export function setRuntime(runtime: ClientRuntime | undefined): void {
  (globalThis as Slot)[SLOT] = runtime;
}
