/**
 * The runtime of this thread (the driver's after init(), or a worker's). Kept in a module of its
 * own, with no imports, so that anything (the codec's actor-handle extension included) can
 * reach the runtime without an import cycle; and on globalThis, so that two copies of this
 * module (a test runner's and Node's) still share one runtime.
 */
import type { ClientRuntime } from './client-runtime.ts';

const SLOT = Symbol.for('weft.runtime');
type Slot = { [SLOT]?: ClientRuntime };

/** The runtime of this thread, if init() ran (driver) or the thread is a worker. */
export function currentRuntime(): ClientRuntime | undefined {
  return (globalThis as Slot)[SLOT];
}

/** @internal Install (or clear) the runtime of this thread. */
export function setRuntime(runtime: ClientRuntime | undefined): void {
  (globalThis as Slot)[SLOT] = runtime;
}
