/**
 * The wire protocol: every message between a client (a driver or a worker's runtime) and its
 * node, one discriminated union per direction, tagged by a kebab-case `type`. The same messages
 * travel over an in-process channel (embedded driver), a MessagePort (workers) and a WebSocket
 * (cluster drivers): only the transport changes.
 *
 * Rules: never reuse a field or a type name; deprecate instead. Each optional field says what
 * its absence means. Anything expecting a reply carries a `requestId`.
 *
 * Retired, never to be reused: the NodeMessage `shutdown-worker` and the Welcome field `jobId`.
 * No peer of version 3 ever sent either, so removing them left the version as it was.
 */
import type { EncodedValue } from './codec.ts';
import type { ErrorPayload } from './errors.ts';

/** Bumped on every incompatible change; checked in the handshake. */
export const PROTOCOL_VERSION = 3;

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
  /** Calls of this function that may run at once in one worker, sharing the first one's resources; absent: 1. */
  maxConcurrency?: number;
  /**
   * The function is a generator (`function*`, `async function*`): each value it yields is an
   * object of its own (id: yieldId(taskId, index)), told to the owner as it comes (`task-yield`),
   * and the task's own result is the number of values yielded. Absent: it returns one value.
   */
  generator?: boolean;
  /** A chunk of a map (see TaskBatch). Absent: one call. */
  batch?: TaskBatch;
  /** The task that submitted this one (a cancel of it cancels this one too); absent: a driver. */
  parentTaskId?: string;
}

/**
 * A chunk of a map: `args` holds the argument lists of its items back to back, the first being
 * item `offset` of the map: item i has `sizes[i]` arguments, or, without `sizes`, one (a map of
 * one argument per item, the common case, sends no sizes). Top-level refs among them are listed
 * in `argRefs`. The function runs once per item, in order, and the task returns `{ values, ms }`:
 * its results, and how long the calls took. An item that throws fails the chunk with a TaskError
 * naming the item's index.
 */
export interface TaskBatch {
  offset: number;
  sizes?: number[];
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
  /** Outlives its driver's job (a named service); absent: killed when its driver exits. */
  detached?: boolean;
  /** A worker of its own although it holds no CPU; absent: it shares a worker when it holds none. */
  isolated?: boolean;
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
  /** Restarts so far; absent: not reported (a client's getActor answer). */
  restarts?: number;
  /** Calls that ended on its node (answered or failed); absent: not reported. */
  calls?: number;
}

/**
 * Lines one task or actor wrote to one stream, in the order written (task output, as Ray's
 * log_to_driver shows it). Sent in batches, each line without its newline.
 */
export interface OutputChunk {
  /** The task, actor call (its callId), or actor (its id: the constructor and what runs outside calls). */
  taskId: string;
  jobId: string;
  /** Where it came from in a prefix: the function, `Class.method`, or the actor's class. */
  name: string;
  stream: 'stdout' | 'stderr';
  lines: string[];
  /** Lines of this task dropped just before these (a bound was reached); absent: none. */
  dropped?: number;
}

/** Where output was written: the node process (its pid: workers are its threads), its id and its host. */
export interface OutputOrigin {
  pid: number;
  nodeId: string;
  ip: string;
}

/** A line a node keeps for `weft logs` and the state API. */
export interface LogLine {
  taskId: string;
  jobId: string;
  name: string;
  stream: OutputChunk['stream'];
  text: string;
  /** Written at (ms since epoch, when the node got it). */
  time: number;
  /** Numbers the lines of one node, from 1, in the order it got them (a follower asks for those after the last it saw). */
  seq: number;
  /** Lines of this task dropped just before this one; absent: none. */
  dropped?: number;
}

/** The outcome of a task or the state of an object. */
export type Result = { status: 'ok'; value: EncodedValue } | { status: 'error'; error: ErrorPayload };

/** Client → node, from drivers and workers alike. */
export type CommonClientMessage =
  | { type: 'submit-task'; task: TaskSpec }
  | { type: 'put-object'; objectId: string; value: EncodedValue }
  /** `taskId`: the task that waits, so its worker lends its CPUs meanwhile; absent in a driver. */
  | { type: 'get-objects'; requestId: number; objectIds: string[]; taskId?: string }
  | { type: 'cancel-get'; requestId: number }
  /** `timeoutMs` null: no limit. `taskId` as for get-objects. */
  | { type: 'wait-objects'; requestId: number; objectIds: string[]; numReturns: number; timeoutMs: number | null; taskId?: string }
  /** `recursive`: also cancel the tasks it submitted, and theirs; absent: true. */
  | { type: 'cancel-task'; objectId: string; requestId: number; recursive?: boolean }
  /** `owners[i]`: the node owning `objectIds[i]`; absent: this node owns them all. */
  | { type: 'add-refs'; objectIds: string[]; owners?: string[] }
  | { type: 'release-refs'; objectIds: string[] }
  | { type: 'create-actor'; spec: ActorSpec }
  | { type: 'submit-actor-call'; call: ActorCallSpec }
  | { type: 'kill-actor'; requestId: number; actorId: string }
  | { type: 'get-actor'; requestId: number; name: string }
  /**
   * The id of the `index`-th value of the generator task `streamId` once it is yielded, held for
   * the sender from the answer on: answered by `stream-item`. `taskId` as for get-objects.
   */
  | { type: 'read-stream'; requestId: number; streamId: string; index: number; taskId?: string }
  /** The cluster's total resources, as the node last heard (for map's default window): answered by `resources`. */
  | { type: 'get-resources'; requestId: number }
  /**
   * Claim a name for an actor about to be created, at the head, while `.remote()` waits (names are
   * unique while their actor lives). `signal` (a worker, over its port): the node writes the
   * answer into it (NAME_CLAIM) and wakes the worker, which is blocked in Atomics.wait; without
   * it, answered by `name-claim`.
   */
  | { type: 'claim-actor-name'; requestId: number; name: string; actorId: string; signal?: SharedArrayBuffer }
  /** How a running map is doing (sent at most every few hundred ms, and at its end): passed on to the head. */
  | { type: 'map-progress'; map: MapStatus };

/** Client → node, from a driver only (its node drops them from a worker). */
export type DriverToNodeOnly =
  /** A driver joining a cluster names its job and (optionally) uploads its packed working directory. */
  | { type: 'register-job'; requestId: number; jobId: string; package?: Uint8Array }
  /**
   * The driver is shutting down (shutdown()): its job ends as soon as its connection closes. A
   * driver whose connection closes without it keeps its job for the death timeout, to reconnect.
   */
  | { type: 'driver-exit' };

/** Client → node, from a worker only (its node drops them from a driver). */
export type WorkerToNodeOnly =
  /** `runMs`: how long the function ran in the worker; absent when not measured. */
  | { type: 'task-done'; taskId: string; result: Result; runMs?: number }
  | { type: 'worker-ready'; workerId: string }
  /** From an actor's worker: its constructor returned (ok) or threw (error). */
  | { type: 'actor-created'; actorId: string; result: Result }
  /** The generator task `taskId` it runs yielded its `index`-th value (from 0; in order, before its `task-done`). */
  | { type: 'task-yield'; taskId: string; index: number; value: EncodedValue }
  /** What the worker's tasks and actors wrote since the last batch (sent before the `task-done` of a task that wrote). */
  | { type: 'task-output'; chunks: OutputChunk[] };

/** Driver → node. */
export type DriverToNode = CommonClientMessage | DriverToNodeOnly;
/** Worker → node. */
export type WorkerToNode = CommonClientMessage | WorkerToNodeOnly;
/** Client → node, either role: what a client runtime sends (it serves both) and what the validator takes. */
export type ClientMessage = DriverToNode | WorkerToNode;

/** Node → client, to drivers and workers alike: the answers to their requests. */
export type CommonNodeMessage =
  | { type: 'objects'; requestId: number; results: Result[] }
  | { type: 'wait-result'; requestId: number; readyIds: string[] }
  | { type: 'cancel-result'; requestId: number; cancelled: boolean }
  | { type: 'actor-info'; requestId: number; actor: ActorInfo | null }
  | { type: 'kill-result'; requestId: number; killed: boolean }
  /**
   * The answer to `read-stream`: the item's id (the sender holds it now), or null when the task
   * ended before yielding it (the task's own object says how: the count, or the error).
   */
  | { type: 'stream-item'; requestId: number; objectId: string | null }
  | { type: 'resources'; requestId: number; total: ResourceSet }
  /** The answer to `claim-actor-name`: whether the name is the actor's now; `error`: the head could not be asked. */
  | { type: 'name-claim'; requestId: number; claimed: boolean; error?: string };

/** Node → driver only. */
export type NodeToDriverOnly =
  /** The job is registered (its code unpacked where needed); `error` absent on success. */
  | { type: 'job-registered'; requestId: number; error?: ErrorPayload }
  /**
   * Over a network: the node has handled the driver's first `count` messages (over all its
   * connections); the driver need not keep them to send again.
   */
  | { type: 'received'; count: number }
  /** Lines the job's tasks and actors wrote, for the driver to print with their origin. */
  | { type: 'task-output'; origin: OutputOrigin; chunks: OutputChunk[] };

/** Node → worker only. */
export type NodeToWorkerOnly =
  /** `join`: start it at once beside the running calls of its function (maxConcurrency > 1); absent: when no task is active. */
  | { type: 'execute-task'; task: TaskSpec; argValues: Array<[objectId: string, value: EncodedValue]>; join?: boolean }
  /** The directory a job's modules are resolved from. */
  | { type: 'job-dir'; jobId: string; dir: string }
  /** To an actor's worker: construct the actor it hosts. */
  | { type: 'create-actor-instance'; spec: ActorSpec; argValues: Array<[objectId: string, value: EncodedValue]> }
  /** To an actor's worker: run a method call. */
  | { type: 'actor-call'; call: ActorCallSpec; argValues: Array<[objectId: string, value: EncodedValue]> }
  /** Drop a task sent ahead to the worker that has not started (it was cancelled). */
  | { type: 'drop-task'; taskId: string }
  /** An actor of this worker was killed: drop it (its queued calls, its instance); the worker's other actors go on. */
  | { type: 'drop-actor'; actorId: string };

/** Node → driver. */
export type NodeToDriver = CommonNodeMessage | NodeToDriverOnly;
/** Node → worker. */
export type NodeToWorker = CommonNodeMessage | NodeToWorkerOnly;
/** Node → client, either role: what a client runtime receives and what the validator takes. */
export type NodeMessage = NodeToDriver | NodeToWorker;

/**
 * The value each request of a client is answered with (the field of its answer: `objects`'s
 * `results`, `wait-result`'s `readyIds`, …). `cancel-get` carries a requestId but is not answered.
 */
export type ClientRequestReplies = RepliesOf<Exclude<ClientMessage, { type: 'cancel-get' }>, {
  'get-objects': Result[];
  'wait-objects': string[];
  'cancel-task': boolean;
  'kill-actor': boolean;
  'get-actor': ActorInfo | null;
  /** Absent: registered. */
  'register-job': ErrorPayload | undefined;
  'read-stream': string | null;
  'get-resources': ResourceSet;
  'claim-actor-name': boolean;
}>;

/** What a node writes into a `claim-actor-name` signal (an Int32Array over it, at index 0). */
export const NAME_CLAIM = { WAITING: 0, CLAIMED: 1, TAKEN: 2, FAILED: 3 } as const;

/** A request of a client to its node. */
export type ClientRequest = Extract<ClientMessage, { type: keyof ClientRequestReplies }>;

export type ClientMessageType = ClientMessage['type'];
export type NodeMessageType = NodeMessage['type'];

// ---------------------------------------------------------------------------------------------
// Cluster mode: the same client messages over a WebSocket, plus node ↔ head and node ↔ node.
// ---------------------------------------------------------------------------------------------

/** Who opens a WebSocket, told in its first message. */
export type PeerRole = 'driver' | 'node' | 'peer';

/** The first message on every WebSocket, from the side that connected. */
export interface Hello {
  type: 'hello';
  /** PROTOCOL_VERSION of the sender; a mismatch closes the connection (CLOSE_CODES.VERSION). */
  version: number;
  role: PeerRole;
  /** The sender: a node's id, or a driver's id. */
  id: string;
}

/** The answer to a Hello. */
export interface Welcome {
  type: 'welcome';
  version: number;
  /** The id of the node (or head) that answered. */
  id: string;
  /**
   * For a driver that reconnects while the node still keeps its job: how many of its messages the
   * node has handled (the driver sends the rest again). Absent: the node has no job of this driver.
   */
  received?: number;
}

/** A node as other nodes reach it. */
export interface PeerInfo {
  nodeId: string;
  /** ws:// or wss:// URL of the node's peer port; empty for an embedded node. */
  address: string;
  resources: ResourceSet;
  /** Free resources at its last heartbeat; absent: not reported yet. */
  available?: ResourceSet;
  /** Tasks waiting there at its last heartbeat; absent: not reported yet. */
  queued?: number;
}

/**
 * A task as the state API shows it. Each node keeps its tasks in its task log and sends those
 * that changed to the head in batches (`task-events`, with its heartbeat), off the task's own
 * path; the head merges them into its task table. A task that changed several times between two
 * batches is sent once, as it is at the batch.
 */
/** A parallel map (`f.map`, `imap`, …) as its driver or task reports it. */
export interface MapStatus {
  mapId: string;
  jobId: string;
  /** The mapped function's name. */
  name: string;
  /** Items whose results are in. */
  done: number;
  /** Items that failed (a map stops at its first). */
  failed: number;
  /** Items in all; absent: an iterable of unknown length. */
  total?: number;
  /** When it began and when this was sent (ms since epoch). */
  startedAt: number;
  updatedAt: number;
  /** `cancelled`: its loop was left early. */
  state: 'running' | 'finished' | 'failed' | 'cancelled';
}

export interface TaskEvent {
  taskId: string;
  /** The job (driver) it belongs to; absent: a node of an older version. */
  jobId?: string;
  /** The task's name (function, or Class.method). */
  name: string;
  state: 'waiting' | 'queued' | 'running' | 'finished' | 'failed';
  nodeId: string;
  /** When it was submitted, started, finished (ms since epoch); absent: not yet. */
  submittedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Worker that ran it; absent: not started. */
  workerId?: string;
  /** Ids of the objects it took as arguments; absent: none. */
  deps?: string[];
  /**
   * Ids of the tasks that make those objects, where the head's task table knows them (the edges
   * of the job's task graph); absent: none known. Filled in by the head, never sent by a node.
   */
  depTasks?: string[];
  /** Error code when failed; absent otherwise. */
  error?: string;
  /** The error's message when failed (for a TASK_ERROR, the class and message the user's code threw; at most 1,000 characters); absent otherwise, or from an older node. */
  errorMessage?: string;
  /** Bytes of the arguments passed by value (encoded, refs excluded); absent: from an older node. */
  argBytes?: number;
}

/** Where an object's bytes are. */
export interface ObjectLocation {
  objectId: string;
  nodeId: string;
  /** Bytes of its frame. */
  size: number;
  /** Ids of the ObjectRefs nested in the value; absent: none. */
  refs?: string[];
}

/** Node → head. */
export type NodeToHead =
  | Hello
  /**
   * `headId`: the head instance this node registered with before (from `registered`); a head
   * that is that instance and no longer lists the node as alive declared it dead, and answers
   * `fenced`. Absent: the node's first registration.
   */
  | { type: 'register-node'; node: PeerInfo; headId?: string }
  /** `available`: free resources now; `stats`: counts for `weft status`. */
  | { type: 'heartbeat'; available: ResourceSet; stats: NodeStats }
  /**
   * The node's tasks that changed since its last batch, each as it is now (sent with the
   * heartbeat, never per event). `dropped`: events this node could not keep since its last batch
   * (its outbox was full); absent: none.
   */
  | { type: 'task-events'; events: TaskEvent[]; dropped?: number }
  /** A task this node cannot run (no resources, or saturated); `argLocations` lists where its ref arguments are. */
  | { type: 'spill-task'; task: TaskSpec; owner: string; argLocations: ObjectLocation[] }
  /**
   * Place actors on some nodes (a burst of creations goes in one request); the head answers with
   * a `reply` carrying, in the same order, each one's node or why it could not be placed.
   */
  | { type: 'place-actors'; requestId: number; specs: ActorSpec[]; owner: string }
  /**
   * `spec`, `owner`, `restarts`: sent when a node reports its actors to a restarted head, which
   * needs them to restart the actor elsewhere within maxRestarts if this node dies; absent: the
   * head placed the actor itself and has them.
   */
  | { type: 'actor-state'; actorId: string; className: string; state: ActorInfo['state']; nodeId: string; name?: string;
      spec?: ActorSpec; owner?: string; restarts?: number }
  | { type: 'claim-actor-name'; requestId: number; name: string; actorId: string }
  /** Find an actor by name or id; the reply's value is an ActorLocation or null. */
  | { type: 'find-actor'; requestId: number; name?: string; actorId?: string }
  /** Store a job's packed working directory (a driver's upload, relayed by its node). */
  | { type: 'put-package'; requestId: number; jobId: string; data: Uint8Array }
  | { type: 'get-package'; requestId: number; jobId: string }
  /** A driver joined or left through this node. */
  | { type: 'job-event'; jobId: string; state: 'started' | 'finished'; nodeId: string }
  /** A map's progress, from a client of this node (the head keeps it for the dashboard and /api/maps). */
  | { type: 'map-progress'; map: MapStatus }
  /**
   * An actor's worker died on this node: may it restart? The head keeps every actor's restart
   * count (node deaths and worker deaths alike); the reply's value is the restart number granted
   * (1, 2, …) or null when its maxRestarts are spent (the head then records it dead).
   */
  | { type: 'restart-actor'; requestId: number; actorId: string; cause: string }
  /** Kill an actor wherever it lives, for good (no restart); the reply's value is whether it was alive. */
  | { type: 'kill-actor'; requestId: number; actorId: string }
  /** Output of tasks of jobs whose driver is not attached here: the head relays it to the driver's node. */
  | { type: 'task-output'; origin: OutputOrigin; chunks: OutputChunk[] }
  | { type: 'reply'; requestId: number; result: HeadReply };

/** Counts a node reports with its heartbeat. */
export interface NodeStats {
  objects: number;
  objectBytes: number;
  workers: number;
  actors: number;
  queued: number;
  running: number;
  /** Resident memory of the node's process, its workers included (bytes); absent: an older node. */
  memoryBytes?: number;
  /** The machine's memory (bytes); absent: an older node. */
  memoryTotalBytes?: number;
  /** Bytes the object store keeps in memory before it spills; absent: an older node. */
  storeCapacityBytes?: number;
  /** Objects whose bytes are spilled to this node's disk (not in memory); absent: an older node. */
  spilledObjects?: number;
  /** Bytes of those objects on disk; absent: an older node. */
  spilledBytes?: number;
  /** Bytes this node pulled from other nodes since it started (object chunks); absent: an older node. */
  bytesPulled?: number;
  /** Bytes other nodes pulled from this node since it started (object chunks served); absent: an older node. */
  bytesPushed?: number;
}

/** Where an actor lives. */
export interface ActorLocation {
  actorId: string;
  className: string;
  nodeId: string;
  state: ActorInfo['state'];
  name?: string;
}

/** A reply to a request, either way between node and head; `T`: the value of that request's answer (see NodeRequestReplies, HeadRequestReplies). */
export type HeadReply<T = unknown> = { status: 'ok'; value: T } | { status: 'error'; error: ErrorPayload };

/** The types of the members of M that expect a `reply` (all that carry a `requestId`, but the reply itself). */
type RequestTypeOf<M extends { type: string }> = Exclude<Extract<M, { requestId: number }>['type'], 'reply'>;
/** R, checked to give a reply value to every request type of M (a request added without one fails to compile). */
type RepliesOf<M extends { type: string }, R extends Record<RequestTypeOf<M>, unknown>> = R;

/** The value of the head's `reply` to each request of a node (the code answering and the code asking both use it). */
/** Where the head placed one actor of a `place-actors` request, or why it could not. */
export type ActorPlacement = { nodeId: string } | { error: ErrorPayload };

export type NodeRequestReplies = RepliesOf<NodeToHead, {
  /** For each actor, in order: the node it was placed on, or why it was not. */
  'place-actors': ActorPlacement[];
  /** Whether the name was free (it is this actor's now). */
  'claim-actor-name': boolean;
  'find-actor': ActorLocation | null;
  /** Always true: the package is stored. */
  'put-package': true;
  'get-package': Uint8Array;
  /** The restart number granted, or null: the actor is dead. */
  'restart-actor': number | null;
  /** Whether the actor was alive. */
  'kill-actor': boolean;
}>;

/** A request of a node to the head. */
export type NodeRequest = Extract<NodeToHead, { type: keyof NodeRequestReplies }>;

/** What a node answers to each state-API query of the head (`query`'s `what`). */
export interface QueryReplies {
  objects: ObjectListing[];
  actors: Array<ActorInfo & { nodeId: string }>;
  tasks: TaskEvent[];
}

/** An object as a node lists it for the state API. */
export interface ObjectListing {
  objectId: string;
  nodeId: string;
  /** Bytes of its value; 0 for an error. */
  size: number;
  /** Whether it holds a value or an error (only complete objects are listed). */
  status: Result['status'] | undefined;
  /** How many hold a ref to it, and who: clients (driver or worker ids) and nodes (`peer:<id>`). */
  holders: number;
  heldBy: string[];
  /** Pins from task arguments and containing objects. */
  pins: number;
  /** The node that owns it; absent: this node does. */
  owner?: string;
  /** This node registered with its owner as a borrower; absent: it did not. */
  borrowed?: true;
}

/** The value of a node's `reply` to each request of the head. */
export type HeadRequestReplies = RepliesOf<HeadToNode, {
  /** Whether the actor was alive here. */
  'kill-actor': boolean;
  /** See ReplyValue: what depends on the question. */
  query: QueryReplies[keyof QueryReplies];
  /** The node's kept lines that match, oldest first, each with its origin. */
  'query-logs': Array<LogLine & OutputOrigin>;
}>;

/** A request of the head to a node. */
export type HeadRequest = Extract<HeadToNode, { type: keyof HeadRequestReplies }>;

/** The value answering the request M (a NodeRequest or a HeadRequest); for a `query`, the answer to its `what`. */
export type ReplyValue<M extends NodeRequest | HeadRequest> =
  M extends { type: 'query'; what: infer W extends keyof QueryReplies } ? QueryReplies[W]
    : M extends HeadRequest ? HeadRequestReplies[M['type']]
      : M extends NodeRequest ? NodeRequestReplies[M['type']] : never;

/** Head → node. */
export type HeadToNode =
  | Welcome
  /**
   * The registration was taken. `headId`: this head instance (a restarted head has another);
   * `deathTimeoutMs`: how long the head lets a node go silent before declaring it dead (the node
   * stops its actors itself sooner when it cannot reach the head).
   */
  | { type: 'registered'; nodeId: string; headId: string; deathTimeoutMs: number }
  /**
   * The head declared this node dead earlier: it is not let back under this id. The node kills its
   * workers, drops its objects and registers again as a new, empty node.
   */
  | { type: 'fenced'; nodeId: string; reason: string }
  /** Kill an actor hosted here (a kill() from anywhere, through the head): answered with a `reply` (value: whether it was alive here). */
  | { type: 'kill-actor'; requestId: number; actorId: string }
  /** The current list of nodes (sent on registration and whenever it changes). */
  | { type: 'peers'; nodes: PeerInfo[] }
  /** Run a task another node spilled here. */
  | { type: 'run-task'; task: TaskSpec; owner: string; argLocations: ObjectLocation[] }
  /** A task this node spilled cannot run anywhere. */
  | { type: 'spill-failed'; taskId: string; error: ErrorPayload }
  /** Where the head sent a task this node spilled (to cancel it there, or retry it if that node dies). */
  | { type: 'task-placed'; taskId: string; nodeId: string }
  /** A driver left: cancel its job's tasks and kill its actors (but detached ones). */
  | { type: 'job-finished'; jobId: string }
  /** Host an actor placed here. `restarts`: times its node died under it so far; absent: 0. */
  | { type: 'host-actor'; spec: ActorSpec; owner: string; restarts?: number }
  /** Questions the head asks a node (for the state API): value answered in a `reply`. */
  | { type: 'query'; requestId: number; what: 'objects' | 'actors' | 'tasks' }
  /** The lines a node keeps (for `weft logs`): of `jobId`, of `taskId`, numbered after `afterSeq`; each absent: any. */
  | { type: 'query-logs'; requestId: number; jobId?: string; taskId?: string; afterSeq?: number }
  /** Output of tasks of a job whose driver is attached here, relayed from the node where they ran. */
  | { type: 'task-output'; origin: OutputOrigin; chunks: OutputChunk[] }
  | { type: 'reply'; requestId: number; result: HeadReply };

/** Node ↔ node, both ways. */
export type PeerMessage =
  | Hello
  | Welcome
  /** The executing node tells a task's owner its outcome; `location` instead of the value for large ones. */
  | { type: 'task-result'; taskId: string; result: Result | { status: 'remote'; location: ObjectLocation } }
  /**
   * The executing node tells a generator task's owner its `index`-th yielded value, in order and
   * before the task's `task-result`, as it tells a result: `location` instead of the value for
   * large ones (kept there until the owner sends `release-object`).
   */
  | { type: 'task-yield'; taskId: string; index: number; result: Result | { status: 'remote'; location: ObjectLocation } }
  /** Tell me when this object (owned or held by you) is ready: answered by `object-ready`. */
  | { type: 'subscribe-object'; objectId: string }
  | { type: 'object-ready'; objectId: string; result: Result | { status: 'remote'; location: ObjectLocation } }
  /** Read part of an object's frame: answered by `object-chunk`. */
  | { type: 'pull-object'; requestId: number; objectId: string; offset: number; length: number }
  /** `error`: the object cannot be read here (freed or failed); absent when `data` holds the chunk. */
  | { type: 'object-chunk'; requestId: number; objectId: string; offset: number; total: number; data: Uint8Array; error?: ErrorPayload }
  /** The sender no longer needs the object: it freed its copy, or its borrow of it ends. */
  | { type: 'release-object'; objectId: string }
  /**
   * The sender now holds refs to these objects, which the receiver owns: keep them until it sends
   * `release-object` for each. Answered by `borrow-ack`.
   */
  | { type: 'borrow-objects'; requestId: number; objectIds: string[] }
  /** `missing`: the ids the owner no longer has (freed before the borrow arrived); empty: all kept. */
  | { type: 'borrow-ack'; requestId: number; missing: string[] }
  /** Run a method call on an actor hosted here; the outcome returns as `task-result`. */
  | { type: 'actor-call'; call: ActorCallSpec; owner: string; argLocations: ObjectLocation[] }
  /** Cancel a task the sender spilled here; `recursive`: and the tasks it submitted (absent: true). */
  | { type: 'cancel-task'; taskId: string; recursive?: boolean }
  /** Deprecated: kills go through the head (NodeToHead `kill-actor`). Kill an actor hosted here: answered by `kill-result`. */
  | { type: 'kill-actor'; requestId: number; actorId: string }
  /** Deprecated with `kill-actor`. */
  | { type: 'kill-result'; requestId: number; killed: boolean }
  /**
   * Output of tasks the receiver owns (it sent them here), for their driver: on the link their
   * `task-result` takes after it, so a driver attached there has a task's lines before its result.
   */
  | { type: 'task-output'; origin: OutputOrigin; chunks: OutputChunk[] };

/**
 * WebSocket close codes of weft (4000–4999). A connection closed with one of these is not
 * retried blindly: the code says why. 4002 is retired, never to be reused: it was to mean a
 * wrong token, which the server refuses with HTTP 401 before the upgrade instead.
 */
export const CLOSE_CODES = {
  /** A frame failed to decode or validate. */
  BAD_FRAME: 4000,
  /** PROTOCOL_VERSION mismatch in the hello. */
  VERSION: 4001,
  /** A frame over the size limit. */
  TOO_BIG: 4003,
  /** The first message was not a hello, or came twice. */
  HANDSHAKE: 4004,
  /** The peer is shutting down. */
  GOING_AWAY: 4005,
} as const;
