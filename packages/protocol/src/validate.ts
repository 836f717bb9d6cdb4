/**
 * Validators for every message that arrives over a WebSocket, one per direction. A message
 * that fails throws a {@link ProtocolError} whose reason names the bad field, e.g.
 * `submit-task.task.argRefs[2] must be [number, string]`; the transport then closes that one
 * connection.
 *
 * They run on every message in cluster mode, so they allocate nothing on success: each check
 * returns `undefined` when the value is fine, or the tail of the reason (` must be a string`),
 * and each enclosing check prefixes its field name while the failure unwinds. The tables are
 * typed so that every message type of a union, and every field of each message, has a check:
 * adding a message or a field without one fails to compile.
 */
import type { EncodedValue } from './codec.ts';
import { ERROR_CODES, type ErrorPayload } from './errors.ts';
import { isId } from './ids.ts';
import {
  CLOSE_CODES, type MapStatus, type ActorCallSpec, type ActorInfo, type ActorOptionsSpec, type ActorSpec, type ClientMessage,
  type FunctionDescriptor, type Hello, type HeadToNode, type NodeMessage, type NodeStats, type NodeToHead,
  type ObjectLocation, type OutputChunk, type OutputOrigin, type PeerInfo, type PeerMessage, type TaskBatch, type TaskSpec,
  type Welcome, type TaskEvent,
} from './messages.ts';

/** A message that failed to decode or validate; `reason` says which field and why. */
export class ProtocolError extends Error {
  /** What was wrong, short enough for a WebSocket close reason once truncated. */
  readonly reason: string;
  /** The close code the connection closes with. @default CLOSE_CODES.BAD_FRAME */
  readonly closeCode: number;
  constructor(reason: string, closeCode: number = CLOSE_CODES.BAD_FRAME) {
    super(reason);
    this.name = 'ProtocolError';
    this.reason = reason;
    this.closeCode = closeCode;
  }
}

/** A validator: returns its input typed, or throws a ProtocolError. */
export type Validator<T> = (x: unknown) => T;

/** `undefined`: valid; otherwise the tail of the reason, starting with the path below this value. */
type Check = (v: unknown) => string | undefined;
type Obj = Record<string, unknown>;
/** One check per field of T, optional fields included. */
type Fields<T> = { [K in keyof T]-?: Check };

const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);

const any: Check = () => undefined;
const str: Check = (v) => (typeof v === 'string' ? undefined : ' must be a string');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : ' must be a boolean');
/** An id as ids.ts makes them (a task, object, job, actor, node, worker, driver or head): never a path. */
const id: Check = (v) => (isId(v) ? undefined : ' must be an id (1-64 characters of A-Z a-z 0-9 _ -)');
const bytes: Check = (v) => (v instanceof Uint8Array ? undefined : ' must be binary (Uint8Array)');
/** Shared memory a worker waits on (only a port carries it; a WebSocket frame cannot). */
const signal: Check = (v) => (v instanceof SharedArrayBuffer && v.byteLength >= 4 ? undefined : ' must be a SharedArrayBuffer of 4 bytes or more');
/** A finite number ≥ 0 (times, sizes in bytes, resource amounts). */
const num: Check = (v) => (typeof v === 'number' && v >= 0 && v < Infinity ? undefined : ' must be a finite number >= 0');
/** A safe integer ≥ 0 (request ids, counts, offsets). */
const uint: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : ' must be an integer >= 0');
/** A safe integer ≥ 1 (an actor's or a task's maxConcurrency: 0 would never run a call). */
const posInt: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? undefined : ' must be an integer >= 1');
/** A safe integer, -1 allowed (retry limits: -1 means no limit). */
const limit: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= -1 ? undefined : ' must be an integer >= -1');

const opt = (check: Check): Check => (v) => (v === undefined ? undefined : check(v));
const nullable = (check: Check): Check => (v) => (v === null ? undefined : check(v));

function oneOf(...values: string[]): Check {
  const allowed = new Set(values);
  const tail = ` must be one of ${values.join(', ')}`;
  return (v) => (typeof v === 'string' && allowed.has(v) ? undefined : tail);
}

function arrayOf(check: Check): Check {
  return (v) => {
    if (!Array.isArray(v)) return ' must be an array';
    for (let i = 0; i < v.length; i++) {
      const bad = check(v[i]);
      if (bad !== undefined) return `[${i}]${bad}`;
    }
    return undefined;
  };
}

/** A two-element tuple, reported as a whole (`must be [number, string]`). */
function pair(first: Check, second: Check, shape: string): Check {
  const tail = ` must be ${shape}`;
  return (v) => (Array.isArray(v) && v.length === 2 && first(v[0]) === undefined && second(v[1]) === undefined
    ? undefined : tail);
}

/** An object with these fields; fields not listed are ignored. */
function shape<T>(fields: Fields<T>): Check {
  const keys = Object.keys(fields);
  const checks = Object.values(fields) as Check[];
  return (v) => {
    if (!isObj(v)) return ' must be an object';
    for (let i = 0; i < keys.length; i++) {
      const bad = checks[i]!(v[keys[i]!]);
      if (bad !== undefined) return `.${keys[i]!}${bad}`;
    }
    return undefined;
  };
}

/**
 * A record of string keys to values passing `check`. A `__proto__` key is refused: msgpackr never
 * makes one, but JSON.parse does, and copying it with spread or assignment would set a prototype.
 */
function recordOf(check: Check): Check {
  return (v) => {
    if (!isObj(v)) return ' must be an object';
    if (Object.hasOwn(v, '__proto__')) return ' has a key __proto__, which is not allowed';
    for (const key of Object.keys(v)) {
      const bad = check(v[key]);
      if (bad !== undefined) return `.${key}${bad}`;
    }
    return undefined;
  };
}

/** Objects discriminated by `tag` (e.g. results by `status`), one shape per tag value. */
function tagged(tag: string, variants: Record<string, Check>): Check {
  const tail = ` must be one of ${Object.keys(variants).join(', ')}`;
  return (v) => {
    if (!isObj(v)) return ' must be an object';
    const t = v[tag];
    if (typeof t !== 'string' || !Object.hasOwn(variants, t)) return `.${tag}${tail}`;
    return variants[t]!(v);
  };
}

// ---- shapes shared by several messages ----------------------------------------------------

const resources = recordOf(num);
const idList = arrayOf(id);
const argRefs = arrayOf(pair(uint, id, '[number, id]'));
const encoded = shape<EncodedValue>({ data: bytes, refs: opt(idList) });
const argValues = arrayOf(pair(id, encoded, '[id, EncodedValue]'));
const fnDescriptor = shape<FunctionDescriptor>({ module: str, name: str });
const errorPayload = shape<ErrorPayload>({
  code: oneOf(...Object.values(ERROR_CODES)), message: str, taskName: opt(str), remoteName: opt(str), remoteStack: opt(str),
});
const okValue = shape<{ value: unknown }>({ value: encoded });
const errValue = shape<{ error: unknown }>({ error: errorPayload });
const result = tagged('status', { ok: okValue, error: errValue });
const headReply = tagged('status', { ok: any, error: errValue });
const actorState = oneOf('pending', 'alive', 'restarting', 'dead');

const task = shape<TaskSpec>({
  taskId: id, jobId: id, fn: fnDescriptor, name: str, args: encoded, argRefs, resources, maxRetries: limit,
  maxConcurrency: opt(posInt),
  retryExceptions: bool, batch: opt(shape<TaskBatch>({ offset: uint, sizes: opt(arrayOf(uint)) })), parentTaskId: opt(id),
  generator: opt(bool),
});
const actorSpec = shape<ActorSpec>({
  actorId: id, jobId: id, cls: fnDescriptor, args: encoded, argRefs,
  options: shape<ActorOptionsSpec>({
    name: opt(str), maxRestarts: limit, maxTaskRetries: limit, maxConcurrency: posInt, resources, placement: resources, detached: opt(bool), isolated: opt(bool),
  }),
});
const actorCall = shape<ActorCallSpec>({
  callId: id, actorId: id, method: str, name: str, args: encoded, argRefs,
});
const actorInfo = shape<ActorInfo>({ actorId: id, className: str, name: opt(str), state: actorState, restarts: opt(uint), calls: opt(uint) });
const location = shape<ObjectLocation>({ objectId: id, nodeId: id, size: uint, refs: opt(idList) });
const locations = arrayOf(location);
const peerInfo = shape<PeerInfo>({ nodeId: id, address: str, resources, available: opt(resources), queued: opt(uint) });
const remoteResult = tagged('status', { ok: okValue, error: errValue, remote: shape<{ location: unknown }>({ location }) });
const mapStatus = shape<MapStatus>({
  mapId: id, jobId: id, name: str, done: uint, failed: uint, total: opt(uint), startedAt: num, updatedAt: num,
  state: oneOf('running', 'finished', 'failed', 'cancelled'),
});
const nodeStats = shape<NodeStats>({
  objects: uint, objectBytes: uint, workers: uint, actors: uint, queued: uint, running: uint,
  memoryBytes: opt(uint), memoryTotalBytes: opt(uint), storeCapacityBytes: opt(uint),
  spilledObjects: opt(uint), spilledBytes: opt(uint), bytesPulled: opt(uint), bytesPushed: opt(uint),
});
const taskEvent = shape<TaskEvent>({
  taskId: id, jobId: opt(id), name: str, state: oneOf('waiting', 'queued', 'running', 'finished', 'failed'), nodeId: id,
  submittedAt: num, startedAt: opt(num), finishedAt: opt(num), workerId: opt(id), deps: opt(idList), depTasks: opt(idList), error: opt(str),
  errorMessage: opt(str), argBytes: opt(uint),
});
const outputChunks = arrayOf(shape<OutputChunk>({
  taskId: id, jobId: id, name: str, stream: oneOf('stdout', 'stderr'), lines: arrayOf(str), dropped: opt(uint),
}));
const outputOrigin = shape<OutputOrigin>({ pid: uint, nodeId: id, ip: str });
const helloFields: Fields<Omit<Hello, 'type'>> = { version: uint, role: oneOf('driver', 'node', 'peer'), id };
const welcomeFields: Fields<Omit<Welcome, 'type'>> = { version: uint, id, received: opt(uint) };

// ---- one table per direction --------------------------------------------------------------

/** For each `type` of the union M, one check per field of that message (the tag aside). */
type Table<M extends { type: string }> = { [K in M['type']]: Fields<Omit<Extract<M, { type: K }>, 'type'>> };

function union<M extends { type: string }>(what: string, table: Table<M>): Validator<M> {
  const checks = new Map<string, Check>();
  for (const [type, fields] of Object.entries(table)) checks.set(type, shape(fields as Fields<unknown>));
  return (x) => {
    if (!isObj(x)) throw new ProtocolError(`${what} must be an object`);
    const type = x.type;
    const check = typeof type === 'string' ? checks.get(type) : undefined;
    if (check === undefined) {
      throw new ProtocolError(`unknown ${what} type ${JSON.stringify(String(type).slice(0, 40))}`);
    }
    const bad = check(x);
    if (bad !== undefined) throw new ProtocolError(type + bad);
    return x as M;
  };
}

/** Validates a message a client (driver or worker runtime) sends to its node. */
export const validateClientMessage: Validator<ClientMessage> = union<ClientMessage>('client message', {
  'submit-task': { task },
  'put-object': { objectId: id, value: encoded },
  'get-objects': { requestId: uint, objectIds: idList, taskId: opt(id) },
  'cancel-get': { requestId: uint },
  'wait-objects': { requestId: uint, objectIds: idList, numReturns: uint, timeoutMs: nullable(num), taskId: opt(id) },
  'cancel-task': { objectId: id, requestId: uint, recursive: opt(bool) },
  'add-refs': { objectIds: idList, owners: opt(idList) },
  'release-refs': { objectIds: idList },
  'task-done': { taskId: id, result, runMs: opt(num) },
  'worker-ready': { workerId: id },
  'create-actor': { spec: actorSpec },
  'submit-actor-call': { call: actorCall },
  'kill-actor': { requestId: uint, actorId: id },
  'get-actor': { requestId: uint, name: str },
  'register-job': { requestId: uint, jobId: id, package: opt(bytes) },
  'actor-created': { actorId: id, result },
  'task-yield': { taskId: id, index: uint, value: encoded },
  'read-stream': { requestId: uint, streamId: id, index: uint, taskId: opt(id) },
  'get-resources': { requestId: uint },
  'claim-actor-name': { requestId: uint, name: str, actorId: id, signal: opt(signal) },
  'map-progress': { map: mapStatus },
  'driver-exit': {},
  'task-output': { chunks: outputChunks },
});

/** Validates a message a node sends to a client. */
export const validateNodeMessage: Validator<NodeMessage> = union<NodeMessage>('node message', {
  objects: { requestId: uint, results: arrayOf(result) },
  'wait-result': { requestId: uint, readyIds: idList },
  'cancel-result': { requestId: uint, cancelled: bool },
  'execute-task': { task, argValues, join: opt(bool) },
  'actor-info': { requestId: uint, actor: nullable(actorInfo) },
  'name-claim': { requestId: uint, claimed: bool, error: opt(str) },
  'kill-result': { requestId: uint, killed: bool },
  'stream-item': { requestId: uint, objectId: nullable(id) },
  'job-registered': { requestId: uint, error: opt(errorPayload) },
  'job-dir': { jobId: id, dir: str },
  'create-actor-instance': { spec: actorSpec, argValues },
  'actor-call': { call: actorCall, argValues },
  resources: { requestId: uint, total: resources },
  received: { count: uint },
  'drop-task': { taskId: id },
  'drop-actor': { actorId: id },
  'task-output': { origin: outputOrigin, chunks: outputChunks },
});

/** Validates a message a node sends to the head. */
export const validateNodeToHead: Validator<NodeToHead> = union<NodeToHead>('node-to-head message', {
  hello: helloFields,
  'register-node': { node: peerInfo, headId: opt(id) },
  heartbeat: { available: resources, stats: nodeStats },
  'task-events': { events: arrayOf(taskEvent), dropped: opt(uint) },
  'spill-task': { task, owner: id, argLocations: locations },
  'place-actors': { requestId: uint, specs: arrayOf(actorSpec), owner: id },
  'actor-state': { actorId: id, className: str, state: actorState, nodeId: id, name: opt(str), spec: opt(actorSpec), owner: opt(id), restarts: opt(uint) },
  'claim-actor-name': { requestId: uint, name: str, actorId: id },
  'find-actor': { requestId: uint, name: opt(str), actorId: opt(id) },
  'put-package': { requestId: uint, jobId: id, data: bytes },
  'get-package': { requestId: uint, jobId: id },
  'job-event': { jobId: id, state: oneOf('started', 'finished'), nodeId: id },
  'map-progress': { map: mapStatus },
  'restart-actor': { requestId: uint, actorId: id, cause: str },
  'kill-actor': { requestId: uint, actorId: id },
  'task-output': { origin: outputOrigin, chunks: outputChunks },
  reply: { requestId: uint, result: headReply },
});

/** Validates a message the head sends to a node. */
export const validateHeadToNode: Validator<HeadToNode> = union<HeadToNode>('head-to-node message', {
  welcome: welcomeFields,
  registered: { nodeId: id, headId: id, deathTimeoutMs: uint },
  fenced: { nodeId: id, reason: str },
  'kill-actor': { requestId: uint, actorId: id },
  peers: { nodes: arrayOf(peerInfo) },
  'run-task': { task, owner: id, argLocations: locations },
  'spill-failed': { taskId: id, error: errorPayload },
  'task-placed': { taskId: id, nodeId: id },
  'job-finished': { jobId: id },
  'host-actor': { spec: actorSpec, owner: id, restarts: opt(uint) },
  query: { requestId: uint, what: oneOf('objects', 'actors', 'tasks') },
  'query-logs': { requestId: uint, jobId: opt(id), taskId: opt(id), afterSeq: opt(uint) },
  'task-output': { origin: outputOrigin, chunks: outputChunks },
  reply: { requestId: uint, result: headReply },
});

/** Validates a message between two nodes (either way). */
export const validatePeerMessage: Validator<PeerMessage> = union<PeerMessage>('peer message', {
  hello: helloFields,
  welcome: welcomeFields,
  'task-result': { taskId: id, result: remoteResult },
  'task-yield': { taskId: id, index: uint, result: remoteResult },
  'subscribe-object': { objectId: id },
  'object-ready': { objectId: id, result: remoteResult },
  'pull-object': { requestId: uint, objectId: id, offset: uint, length: uint },
  'object-chunk': { requestId: uint, objectId: id, offset: uint, total: uint, data: bytes, error: opt(errorPayload) },
  'release-object': { objectId: id },
  'borrow-objects': { requestId: uint, objectIds: idList },
  'borrow-ack': { requestId: uint, missing: idList },
  'actor-call': { call: actorCall, owner: id, argLocations: locations },
  'cancel-task': { taskId: id, recursive: opt(bool) },
  'kill-actor': { requestId: uint, actorId: id },
  'kill-result': { requestId: uint, killed: bool },
  'task-output': { origin: outputOrigin, chunks: outputChunks },
});

/** Validates the first message on a WebSocket (throws with CLOSE_CODES.HANDSHAKE when it is not a hello). */
export const validateHello: Validator<Hello> = handshake<Hello>('hello', helloFields);

/** Validates the answer to a hello (throws with CLOSE_CODES.HANDSHAKE when it is not a welcome). */
export const validateWelcome: Validator<Welcome> = handshake<Welcome>('welcome', welcomeFields);

function handshake<T>(type: string, fields: Fields<Omit<T, 'type'>>): Validator<T> {
  const check = shape(fields);
  return (x) => {
    if (!isObj(x) || x.type !== type) throw new ProtocolError(`the first message must be a ${type}`, CLOSE_CODES.HANDSHAKE);
    const bad = check(x);
    if (bad !== undefined) throw new ProtocolError(type + bad, CLOSE_CODES.HANDSHAKE);
    return x as T;
  };
}
