/**
 * Why a worker died, in words for errors and logs, and what becomes of its tasks.
 */
import { ERROR_CODES, type ErrorPayload, type TaskSpec } from '@weft/protocol';
import type { WorkerHandle } from './worker-pool.ts';

/** Why a worker's thread ended, for errors and logs. */
export function describeExit(worker: WorkerHandle, exitCode: number): string {
  const error = worker.lastError as (Error & { code?: string }) | undefined;
  if (error?.code === 'ERR_WORKER_OUT_OF_MEMORY') return 'the worker ran out of memory (heap limit reached)';
  if (error) return `the worker died of an uncaught ${error.name}: ${error.message}`;
  return `the worker exited with code ${exitCode}`;
}

/** The error of a task whose worker died more often than its retries allow (or once it had yielded, a generator). */
export function crashError(task: { spec: TaskSpec; retries: number; yielded?: boolean }, cause: string): ErrorPayload {
  if (task.yielded) {
    return { code: ERROR_CODES.WORKER_CRASHED,
      message: `generator task ${task.spec.name} (${task.spec.taskId}) failed: ${cause}, after it had yielded values, so it is not `
        + 'retried (its consumer has seen part of this run). Find what kills the worker (process.exit, an uncaught error in a callback, memory).' };
  }
  return { code: ERROR_CODES.WORKER_CRASHED,
    message: `task ${task.spec.name} (${task.spec.taskId}) failed: ${cause}, after ${task.retries} retries, `
      + `more than maxRetries (${task.spec.maxRetries}) allows. Find what kills the worker (process.exit, an uncaught error in a callback, memory), or raise maxRetries.` };
}

/**
 * What becomes of a task whose worker ended. Every task that had started is charged a retry,
 * waiting in get or not: any of them may have caused the crash (an uncaught error in its timer),
 * and a free retry could loop forever; one out of retries fails. Tasks sent ahead but not started,
 * and tasks beside a cancelled one (`endedByNode`), are queued again without a charge.
 */
export function afterExit(task: { spec: TaskSpec; retries: number; yielded?: boolean }, started: boolean, endedByNode: boolean): 'requeue' | 'retry' | 'fail' {
  // A generator that yielded is never run again: another run might yield other values (see LocalScheduler.yielded).
  if (task.yielded) return 'fail';
  if (!started || endedByNode) return 'requeue';
  return task.spec.maxRetries >= 0 && task.retries >= task.spec.maxRetries ? 'fail' : 'retry';
}
