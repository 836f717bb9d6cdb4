/**
 * Why a worker died, in words for errors and logs.
 */
import { ERROR_CODES, type ErrorPayload, type TaskSpec } from '@weft/core';
import type { WorkerHandle } from './worker-pool.ts';

/** Why a worker's thread ended, for errors and logs. */
export function describeExit(worker: WorkerHandle, exitCode: number): string {
  const error = worker.lastError as (Error & { code?: string }) | undefined;
  if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY') return 'the worker ran out of memory (heap limit reached)';
  if (error) return `the worker died of an uncaught ${error.name}: ${error.message}`;
  return `the worker exited with code ${exitCode}`;
}

/** The error of a task whose worker died more often than its retries allow. */
export function crashError(task: { spec: TaskSpec; retries: number }, cause: string): ErrorPayload {
  return { code: ERROR_CODES.WORKER_CRASHED,
    message: `task ${task.spec.name} (${task.spec.taskId}) failed: ${cause}, after ${task.retries} retries, `
      + `more than maxRetries (${task.spec.maxRetries}) allows. Find what kills the worker (process.exit, an uncaught error in a callback, memory), or raise maxRetries.` };
}
