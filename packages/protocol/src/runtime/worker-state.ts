/**
 * Marks a thread as a weft worker. Set by the worker bootstrap before any user module loads;
 * `importing` is true while the executor imports a task's module.
 */
const SLOT = Symbol.for('weft.worker-state');

/** Signal thrown by `init()` when a worker imports a driver script: stops its evaluation there. */
export const DRIVER_CODE_IN_WORKER = Symbol.for('weft.driver-code-in-worker');

/** State of a worker thread. */
export interface WorkerState {
  importing: boolean;
}

/** This thread's worker state, or undefined in a driver. */
export function workerState(): WorkerState | undefined {
  return (globalThis as { [SLOT]?: WorkerState })[SLOT];
}

/** @internal Mark this thread as a worker. */
export function markWorker(): WorkerState {
  const state: WorkerState = { importing: false };
  (globalThis as { [SLOT]?: WorkerState })[SLOT] = state;
  return state;
}
