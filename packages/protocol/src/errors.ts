/**
 * Errors users see. One base class with a stable `code`; user failures (`TaskError`: the
 * function threw) are kept apart from system failures (worker crashed, cancelled, timeout…).
 * Errors cross threads and processes as an {@link ErrorPayload} and are rebuilt here by code,
 * so check them by `code` (or `instanceof`, which works after the rebuild).
 */

/** Stable error codes, one per error class. */
export const ERROR_CODES = {
  TASK_ERROR: 'TASK_ERROR',
  WORKER_CRASHED: 'WORKER_CRASHED',
  ACTOR_DIED: 'ACTOR_DIED',
  OBJECT_LOST: 'OBJECT_LOST',
  GET_TIMEOUT: 'GET_TIMEOUT',
  TASK_CANCELLED: 'TASK_CANCELLED',
  NODE_DIED: 'NODE_DIED',
  TASK_UNSCHEDULABLE: 'TASK_UNSCHEDULABLE',
  SERIALIZATION: 'SERIALIZATION',
  NOT_INITIALIZED: 'NOT_INITIALIZED',
  REMOTE_FUNCTION_NOT_FOUND: 'REMOTE_FUNCTION_NOT_FOUND',
  NOT_FOUND: 'NOT_FOUND',
  OBJECT_STORE_FULL: 'OBJECT_STORE_FULL',
  SYSTEM: 'SYSTEM',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Base class of every weft error. */
export class WeftError extends Error {
  /** Stable machine-readable code; survives crossing processes. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * User code in a task or actor method threw. `remoteMessage` and `remoteStack` are the
 * original error's; `cause` holds the original error's name (e.g. `"RangeError"`).
 */
export class TaskError extends WeftError {
  /** The name of the remote function (or `Class.method`) that threw. */
  readonly taskName: string;
  /** The message of the original error. */
  readonly remoteMessage: string;
  /** The original stack, with the framework's frames dropped. */
  readonly remoteStack: string;
  /** The name of the original error's class. */
  declare readonly cause: string;
  constructor(taskName: string, remoteName: string, remoteMessage: string, remoteStack: string) {
    super(ERROR_CODES.TASK_ERROR, `task ${taskName} threw ${remoteName}: ${remoteMessage}`);
    this.taskName = taskName;
    this.remoteMessage = remoteMessage;
    this.remoteStack = remoteStack;
    Object.defineProperty(this, 'cause', { value: remoteName, enumerable: false, writable: false });
    // The stack users read first is the remote one: that is where their bug is.
    this.stack = `${this.name}: ${this.message}\n--- remote stack (${taskName}) ---\n${remoteStack}`;
  }
}

/** The worker running a task died (crash, `process.exit`, out of memory) more often than `maxRetries` allowed. */
export class WorkerCrashedError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.WORKER_CRASHED, message);
  }
}

/** The actor is dead (killed, constructor threw, or out of restarts). */
export class ActorDiedError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.ACTOR_DIED, message);
  }
}

/** An object's every copy is gone and it cannot be rebuilt. */
export class ObjectLostError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.OBJECT_LOST, message);
  }
}

/** `get` waited longer than its `timeoutMs`. The task itself goes on. */
export class GetTimeoutError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.GET_TIMEOUT, message);
  }
}

/** The task was cancelled with `cancel` before it finished. */
export class TaskCancelledError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.TASK_CANCELLED, message);
  }
}

/** The node that ran the task or held the object died. */
export class NodeDiedError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.NODE_DIED, message);
  }
}

/** No node of the cluster can ever satisfy the task's resource request. */
export class TaskUnschedulableError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.TASK_UNSCHEDULABLE, message);
  }
}

/** A value could not be serialized (a function, a class instance…) or deserialized. */
export class SerializationError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.SERIALIZATION, message);
  }
}

/** The object store and the disk it spills to are both full: the value could not be kept. */
export class ObjectStoreFullError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.OBJECT_STORE_FULL, message);
  }
}

/** A named thing (an actor) does not exist. */
export class ValueNotFoundError extends WeftError {
  constructor(message: string) {
    super(ERROR_CODES.NOT_FOUND, message);
  }
}

/** An internal failure of weft itself (a bug or a broken connection). */
export class SystemError extends WeftError {
  constructor(message: string, code: ErrorCode = ERROR_CODES.SYSTEM) {
    super(code, message);
  }
}

/** An error as it crosses threads and processes. */
export interface ErrorPayload {
  /** Which class to rebuild. */
  code: ErrorCode;
  /** Full message of the weft error (for TASK_ERROR: the remote message). */
  message: string;
  /** TASK_ERROR only: the task's name. Absent otherwise. */
  taskName?: string;
  /** TASK_ERROR only: the original error's class name. */
  remoteName?: string;
  /** TASK_ERROR only: the original stack, user frames only. */
  remoteStack?: string;
}

/** Turn any error into a payload that can cross a thread or process boundary. */
export function toErrorPayload(error: unknown): ErrorPayload {
  if (error instanceof TaskError) {
    return { code: error.code, message: error.remoteMessage, taskName: error.taskName,
      remoteName: error.cause, remoteStack: error.remoteStack };
  }
  if (error instanceof WeftError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: ERROR_CODES.SYSTEM, message };
}

/** Rebuild the typed error from its payload. */
export function fromErrorPayload(payload: ErrorPayload): WeftError {
  switch (payload.code) {
    case ERROR_CODES.TASK_ERROR:
      return new TaskError(payload.taskName ?? '<unknown>', payload.remoteName ?? 'Error',
        payload.message, payload.remoteStack ?? '');
    case ERROR_CODES.WORKER_CRASHED: return new WorkerCrashedError(payload.message);
    case ERROR_CODES.ACTOR_DIED: return new ActorDiedError(payload.message);
    case ERROR_CODES.OBJECT_LOST: return new ObjectLostError(payload.message);
    case ERROR_CODES.GET_TIMEOUT: return new GetTimeoutError(payload.message);
    case ERROR_CODES.TASK_CANCELLED: return new TaskCancelledError(payload.message);
    case ERROR_CODES.NODE_DIED: return new NodeDiedError(payload.message);
    case ERROR_CODES.TASK_UNSCHEDULABLE: return new TaskUnschedulableError(payload.message);
    case ERROR_CODES.SERIALIZATION: return new SerializationError(payload.message);
    case ERROR_CODES.NOT_FOUND: return new ValueNotFoundError(payload.message);
    case ERROR_CODES.OBJECT_STORE_FULL: return new ObjectStoreFullError(payload.message);
    case ERROR_CODES.NOT_INITIALIZED:
    case ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND:
    case ERROR_CODES.SYSTEM:
      return new SystemError(payload.message, payload.code);
  }
}

/** Frames of weft itself and of Node internals, dropped from remote stacks. */
const FRAMEWORK_FRAME = /(\/packages\/(protocol|core|worker-node|scheduler|cli)\/(src|dist)\/|[( ]node:|\/node_modules\/(tsx|@weft)\/)/;

/**
 * The user's part of a stack: the header line and the frames that are not weft's or Node's.
 * Like Temporal's cutoffStackTrace, so a remote error points at the user's code.
 */
export function userStack(stack: string | undefined): string {
  if (!stack) return '';
  const lines = stack.split('\n');
  const kept = lines.filter((line, i) => i === 0 || !line.trimStart().startsWith('at ') || !FRAMEWORK_FRAME.test(line));
  return kept.join('\n');
}
