/**
 * The wire protocol: every message between a client (a driver or a worker's runtime) and its
 * node, one discriminated union per direction, tagged by a kebab-case `type`. The same messages
 * travel over an in-process channel (embedded driver), a MessagePort (workers) and later a
 * WebSocket (cluster drivers): only the transport changes.
 *
 * Rules: never reuse a field or a type name; deprecate instead. Each optional field says what
 * its absence means. Anything expecting a reply carries a `requestId`.
 */
import type { EncodedValue } from '../codec.ts';
import type { ErrorPayload } from '../errors.ts';

/** Bumped on every incompatible change; checked in the handshake. */
export const PROTOCOL_VERSION = 1;

/** Resources a task asks for, e.g. `{ CPU: 1, gpu: 1 }`. */
export type ResourceSet = Record<string, number>;

/** Where a remote function lives: its module and its name in that module's registry. */
export interface FunctionDescriptor {
  /** Module path relative to the job's working directory, or absolute when outside it. */
  module: string;
  /** The function's key in the module (its name, suffixed `#k` when a name repeats). */
  name: string;
}

/** A task as the node schedules it. */
export interface TaskSpec {
  /** The task's id; also the id of the object it returns. */
  taskId: string;
  /** The job (driver) the task belongs to. */
  jobId: string;
  /** The function to run. */
  fn: FunctionDescriptor;
  /** A readable name for errors, logs and the timeline (the function's name). */
  name: string;
  /** The encoded argument list; top-level ObjectRefs stay refs in it and are listed in `argRefs`. */
  args: EncodedValue;
  /** Positions and ids of the top-level ObjectRef arguments, resolved before the task runs. Empty: none. */
  argRefs: Array<[index: number, objectId: string]>;
  /** What the task needs while it runs. */
  resources: ResourceSet;
  /** Retries after a worker crash. */
  maxRetries: number;
  /** Whether exceptions from user code are retried too. */
  retryExceptions: boolean;
}

/** Options of an actor, as the node keeps them. */
export interface ActorOptionsSpec {
  /** A name unique in the cluster while the actor lives; absent: unnamed. */
  name?: string;
  /** Restarts after its worker dies; -1: without limit. */
  maxRestarts: number;
  /** Retries of a method call in flight when the actor died; -1: without limit. */
  maxTaskRetries: number;
  /** Calls that may run at once (async methods overlap up to this many). */
  maxConcurrency: number;
  /** Resources held while the actor lives. */
  resources: ResourceSet;
  /** Resources that must be free to place it (not held afterwards). */
  placement: ResourceSet;
}

/** An actor to create. */
export interface ActorSpec {
  actorId: string;
  jobId: string;
  /** The class, by module and name. */
  cls: FunctionDescriptor;
  /** The encoded constructor arguments; top-level refs listed in `argRefs`. */
  args: EncodedValue;
  /** Positions and ids of top-level ObjectRef constructor arguments. Empty: none. */
  argRefs: Array<[index: number, objectId: string]>;
  options: ActorOptionsSpec;
}

/** A call of an actor's method. */
export interface ActorCallSpec {
  /** The call's id; also the id of the object it returns. */
  callId: string;
  actorId: string;
  method: string;
  /** `Class.method`, for errors and logs. */
  name: string;
  args: EncodedValue;
  /** Positions and ids of top-level ObjectRef arguments. Empty: none. */
  argRefs: Array<[index: number, objectId: string]>;
}

/** An actor as `getActor` finds it. */
export interface ActorInfo {
  actorId: string;
  className: string;
  /** Absent: unnamed. */
  name?: string;
  state: 'pending' | 'alive' | 'restarting' | 'dead';
}

/** The outcome of a task or the state of an object. */
export type Result = { status: 'ok'; value: EncodedValue } | { status: 'error'; error: ErrorPayload };

/** Client → node. */
export type ClientMessage =
  | { type: 'submit-task'; task: TaskSpec }
  | { type: 'put-object'; objectId: string; value: EncodedValue }
  /** `taskId`: the task that waits, so its worker lends its CPUs meanwhile; absent in a driver. */
  | { type: 'get-objects'; requestId: number; objectIds: string[]; taskId?: string }
  | { type: 'cancel-get'; requestId: number }
  /** `timeoutMs` null: no limit. `taskId` as for get-objects. */
  | { type: 'wait-objects'; requestId: number; objectIds: string[]; numReturns: number; timeoutMs: number | null; taskId?: string }
  | { type: 'cancel-task'; objectId: string; requestId: number }
  | { type: 'add-refs'; objectIds: string[] }
  | { type: 'release-refs'; objectIds: string[] }
  /** `runMs`: how long the function ran in the worker; absent when not measured. */
  | { type: 'task-done'; taskId: string; result: Result; runMs?: number }
  | { type: 'worker-ready'; workerId: string }
  | { type: 'create-actor'; spec: ActorSpec }
  | { type: 'submit-actor-call'; call: ActorCallSpec }
  | { type: 'kill-actor'; requestId: number; actorId: string }
  | { type: 'get-actor'; requestId: number; name: string }
  /** From an actor's worker: its constructor returned (ok) or threw (error). */
  | { type: 'actor-created'; actorId: string; result: Result };

/** Node → client. */
export type NodeMessage =
  | { type: 'objects'; requestId: number; results: Result[] }
  | { type: 'wait-result'; requestId: number; readyIds: string[] }
  | { type: 'cancel-result'; requestId: number; cancelled: boolean }
  | { type: 'execute-task'; task: TaskSpec; argValues: Array<[objectId: string, value: EncodedValue]> }
  | { type: 'actor-info'; requestId: number; actor: ActorInfo | null }
  | { type: 'kill-result'; requestId: number; killed: boolean }
  /** To an actor's worker: construct the actor it hosts. */
  | { type: 'create-actor-instance'; spec: ActorSpec; argValues: Array<[objectId: string, value: EncodedValue]> }
  /** To an actor's worker: run a method call. */
  | { type: 'actor-call'; call: ActorCallSpec; argValues: Array<[objectId: string, value: EncodedValue]> }
  /** Drop a task sent ahead to the worker that has not started (it was cancelled). */
  | { type: 'drop-task'; taskId: string }
  | { type: 'shutdown-worker' };

export type ClientMessageType = ClientMessage['type'];
export type NodeMessageType = NodeMessage['type'];
