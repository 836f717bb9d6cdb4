/**
 * Where code runs: the process-wide identity of this driver or worker, and the task or actor
 * call currently running (AsyncLocalStorage, so it follows awaits).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** What `getRuntimeContext()` returns. */
export interface RuntimeContext {
  /** The node this code runs on. */
  nodeId: string;
  /** The worker (or, in the driver, the driver's own id). */
  workerId: string;
  /** The job: one per driver. */
  jobId: string;
  /** The task being run. Absent in the driver. */
  taskId?: string;
  /** The actor hosting this code. Absent outside actors. */
  actorId?: string;
}

/** The task a piece of code runs for. */
export interface TaskScope {
  taskId: string;
  /** The function, `Class.method`, or the actor's class, for the prefix of what it prints; absent: not printed as its own. */
  name?: string;
  actorId?: string;
  /** The task's job, and the folder its code is in (a worker runs tasks of many jobs); absent: the process's own. */
  jobId?: string;
  workingDir?: string;
}

/** The running task, followed across awaits. */
export const taskScope = new AsyncLocalStorage<TaskScope>();
