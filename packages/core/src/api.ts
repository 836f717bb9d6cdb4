/**
 * The driver-facing API: init, shutdown, get, wait, put, cancel, getRuntimeContext. The same
 * functions work inside tasks, where they use the worker's runtime.
 */
import {
  ObjectRef, assertCurrent, ERROR_CODES, GetTimeoutError, SystemError, ValueNotFoundError, randomId, ClientRuntime,
  currentRuntime, setRuntime, requireRuntime, taskScope, POOL_MIN_BYTES, SharedMemoryPool, setSharedAllocator, allocateArray, type AllocatableArray, type AllocatableKind,
  connectWebSocket, ReconnectingConnection, PROTOCOL_VERSION, validateNodeMessage, packDirectory, moduleTypeFile,
  DRIVER_CODE_IN_WORKER, workerState, type RuntimeContext, type ClientMessage, type NodeMessage, type Connection,
} from '@weft/protocol';
import { ObjectRefGenerator } from './object-ref-generator.ts';
import { ActorHandleBase, makeHandle, type ActorHandle } from './actor.ts';
import { startEmbedded, type EmbeddedCluster } from './runtime/embedded.ts';
import { NetworkNameClaims } from './runtime/name-claims.ts';
import { printTaskOutput } from './task-output-printer.ts';
import { realpathSync } from 'node:fs';

/** Options of `init`. */
export interface InitOptions {
  /** CPUs of the embedded node. @default os.availableParallelism() */
  numCpus?: number;
  /** Custom resources of the embedded node, e.g. `{ gpu: 2 }`. @default {} */
  resources?: Record<string, number>;
  /** Join the cluster at this address instead of starting an embedded one. @default WEFT_ADDRESS, else embedded */
  address?: string;
  /** The cluster's token (with `address`). @default WEFT_TOKEN */
  token?: string;
  /** The directory task modules are resolved from (and, joining a cluster, packed and shipped). @default WEFT_WORKING_DIR, else process.cwd() */
  workingDir?: string;
  /** Heap limit of each worker in MiB; a task that passes it crashes only its worker (reported as out of memory) and is retried. @default 70% of RAM shared among the workers, at least 512 */
  workerHeapLimitMb?: number;
  /** Return quietly when weft is already initialised instead of throwing. @default false */
  ignoreReinitError?: boolean;
  /** Bytes of values the embedded node keeps in memory; beyond it, values spill to disk. @default 30% of RAM */
  objectStoreMemory?: number;
  /** With `address` over wss: the CA (or self-signed certificate, PEM) to trust. @default the system's CAs */
  tlsCa?: string | Buffer;
  /**
   * Print here what this job's tasks and actors write (console.log, process.stdout.write, …),
   * each line prefixed with where it ran: `(square pid=… node=… ip=…) hello`, as Ray's
   * log_to_driver. The nodes keep the lines either way (`weft logs`). @default true
   */
  logToDriver?: boolean;
}

let cluster: EmbeddedCluster | undefined;
/** A cluster driver's claims of actor names (embedded drivers ask their head directly). */
let nameClaims: NetworkNameClaims | undefined;
let memoryPool: SharedMemoryPool | undefined;
let starting: Promise<void> | undefined;

/**
 * Start weft. With no `address`, starts an embedded cluster (a head and a node with one worker
 * per CPU) in this process.
 */
export async function init(options: InitOptions = {}): Promise<void> {
  const worker = workerState();
  if (worker) {
    // A worker imported a module that is also a driver script: everything above init() is
    // defined now; stop evaluating the module here so that the driver's code never runs in a worker.
    if (worker.importing) throw Object.assign(new Error('driver code does not run in a worker'), { [DRIVER_CODE_IN_WORKER]: true });
    return;
  }
  if (currentRuntime() || starting) {
    if (options.ignoreReinitError) return starting;
    throw new SystemError('weft is already initialised: call shutdown() first, or pass { ignoreReinitError: true }', ERROR_CODES.SYSTEM);
  }
  const address = options.address ?? process.env.WEFT_ADDRESS;
  if (options.numCpus !== undefined && (!Number.isFinite(options.numCpus) || options.numCpus < 1)) {
    throw new RangeError(`numCpus must be a number >= 1, got ${String(options.numCpus)}`);
  }
  starting = address ? joinCluster(address, options) : startLocal(options);
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

/** Join a cluster through the node (or head) at `address`: the working directory goes with the job. */
async function joinCluster(address: string, options: InitOptions): Promise<void> {
  const token = options.token ?? process.env.WEFT_TOKEN;
  if (!token) throw new SystemError(`init({ address: '${address}' }) needs the cluster's token: pass { token } or set WEFT_TOKEN (weft start --head printed it)`);
  const workingDir = realpathSync(options.workingDir ?? process.env.WEFT_WORKING_DIR ?? process.cwd());
  const driverId = randomId('driver');
  const jobId = randomId('job');
  const packed = await packDirectory(workingDir, { extraFiles: moduleTypeFile(workingDir) });
  const open = async (): Promise<{ conn: Connection<NodeMessage, ClientMessage>; nodeId: string; received: number | undefined }> => {
    const { conn, welcome } = await connectWebSocket<NodeMessage, ClientMessage>({
      url: address, token, target: 'the cluster', validate: validateNodeMessage,
      hello: { type: 'hello', version: PROTOCOL_VERSION, role: 'driver', id: driverId },
      ...(options.tlsCa !== undefined ? { tls: { ca: options.tlsCa } } : {}),
    });
    return { conn, nodeId: welcome.id, received: welcome.received };
  };
  const first = await open();
  let runtime: ClientRuntime | undefined;
  // When the connection drops, the driver connects again with backoff. A node that kept its job
  // (for the death timeout) says how many of its messages it handled: the rest go again, so
  // nothing sent is lost. A node that has no job of it (it restarted: a restarted head brings its
  // node back, under a new id) gets the job registered again and what was not acknowledged;
  // objects of the old node are lost (get says so), but the driver goes on. Then what was in
  // flight is asked again (its answers may have been lost).
  const conn = new ReconnectingConnection<NodeMessage, ClientMessage>(first.conn, async () => {
    const next = await open();
    if (runtime) runtime.identity.nodeId = next.nodeId;
    return { conn: next.conn, resumeFrom: next.received };
  }, {
    disconnected: (reason) => runtime?.disconnected(reason),
    reconnected: (resumed) => {
      if (!resumed) runtime?.registerJob(jobId, packed.data).catch(() => {}); // its own failure reaches later calls
    },
    resumed: () => runtime?.resumed(),
  }, { acked: (message) => (message.type === 'received' ? message.count : undefined) });
  runtime = new ClientRuntime(conn, { nodeId: first.nodeId, workerId: driverId, jobId, workingDir });
  const names = new NetworkNameClaims({ url: address, token, ...(options.tlsCa !== undefined ? { tlsCa: options.tlsCa } : {}) });
  runtime.claimActorName = (name, actorId) => names.claim(name, actorId);
  nameClaims = names;
  if (options.logToDriver !== false) runtime.onTaskOutput = printTaskOutput;
  try {
    await runtime.registerJob(jobId, packed.data);
  } catch (error) {
    runtime.close();
    throw error;
  }
  // Values travel over the network from here: shared memory would buy nothing.
  setSharedAllocator((size) => new Uint8Array(size));
  setRuntime(runtime);
}

/** Start a head and a node in this process (the embedded cluster). */
async function startLocal(options: InitOptions): Promise<void> {
  const workingDir = options.workingDir ?? process.cwd();
  const jobId = randomId('job');
  const started = await startEmbedded({ ...options, workingDir, jobId });
  cluster = started;
  const pool = new SharedMemoryPool();
  memoryPool = pool;
  setSharedAllocator((size) => (size >= POOL_MIN_BYTES ? pool.take(size) : new Uint8Array(new SharedArrayBuffer(size))));
  const driverId = randomId('driver');
  const conn = started.connect(driverId);
  const runtime = new ClientRuntime(conn, { nodeId: started.nodeId, workerId: driverId, jobId, workingDir });
  runtime.claimActorName = (name, actorId) => started.claimActorName(name, actorId);
  if (options.logToDriver !== false) runtime.onTaskOutput = printTaskOutput;
  setRuntime(runtime);
}

/** Stop weft: the embedded cluster's workers end; refs from before can no longer be read. */
export async function shutdown(): Promise<void> {
  if (workerState()) return;
  await starting?.catch(() => {});
  const runtime = currentRuntime();
  setRuntime(undefined);
  runtime?.close();
  nameClaims?.close();
  nameClaims = undefined;
  const stopping = cluster;
  cluster = undefined;
  setSharedAllocator(undefined);
  const pool = memoryPool;
  memoryPool = undefined;
  await Promise.all([stopping?.stop(), pool?.close()]);
}

function checkRef(value: unknown, what: string): ObjectRef {
  if (!(value instanceof ObjectRef)) throw new TypeError(`${what} takes ObjectRefs, got ${value === null ? 'null' : typeof value}`);
  assertCurrent(value, what);
  return value;
}

/** Options of `get`. */
export interface GetOptions {
  /** Throw GetTimeoutError after this long. @default no limit */
  timeoutMs?: number;
}

/** The value of a ref (or the values of a list of refs, in order). Throws what the task threw. */
export function get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
export function get<const R extends readonly ObjectRef<unknown>[]>(refs: R, options?: GetOptions): Promise<{ -readonly [K in keyof R]: R[K] extends ObjectRef<infer T> ? T : never }>;
export function get<T>(refs: ObjectRef<T>[], options?: GetOptions): Promise<T[]>;
export async function get(refs: ObjectRef | readonly ObjectRef[], options: GetOptions = {}): Promise<unknown> {
  const runtime = requireRuntime('get()');
  const timeoutMs = timeLimit(options.timeoutMs) ?? undefined;
  if (Array.isArray(refs)) {
    const ids = refs.map((ref) => checkRef(ref, 'get()').id);
    return ids.length === 0 ? [] : runtime.get(ids, timeoutMs);
  }
  const [value] = await runtime.get([checkRef(refs, 'get()').id], timeoutMs);
  return value;
}

/** Options of `wait`. */
export interface WaitOptions {
  /** Return once this many refs are ready. @default 1 */
  numReturns?: number;
  /** Return after this long with what is ready. @default no limit */
  timeoutMs?: number;
}

/** Longest delay a timer takes: setTimeout fires at once for anything longer (Infinity included). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A `timeoutMs` option checked; null when there is no limit (absent, Infinity, or longer than a timer can wait: 24.8 days). */
function timeLimit(timeoutMs: number | undefined): number | null {
  if (timeoutMs === undefined) return null;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be a number >= 0 (Infinity: no limit), got ${String(timeoutMs)}`);
  return timeoutMs > MAX_TIMER_MS ? null : timeoutMs;
}

/** Split refs into `ready` (at most `numReturns`, in completion order) and `pending`. */
export async function wait<T>(refs: readonly ObjectRef<T>[], options: WaitOptions = {}): Promise<{ ready: ObjectRef<T>[]; pending: ObjectRef<T>[] }> {
  const runtime = requireRuntime('wait()');
  if (!Array.isArray(refs)) throw new TypeError('wait() takes an array of ObjectRefs');
  const ids = refs.map((ref) => checkRef(ref, 'wait()').id);
  if (new Set(ids).size !== ids.length) throw new RangeError('wait() was given the same ObjectRef twice; pass each once');
  const numReturns = options.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 0 || numReturns > refs.length) {
    throw new RangeError(`numReturns must be an integer from 0 to the number of refs (${refs.length}), got ${String(numReturns)}`);
  }
  const timeoutMs = timeLimit(options.timeoutMs);
  if (refs.length === 0) return { ready: [], pending: [] };
  const readyIds = await runtime.wait(ids, numReturns, timeoutMs);
  const byId = new Map(refs.map((ref) => [ref.id, ref]));
  const ready = readyIds.map((id) => byId.get(id)).filter((ref): ref is ObjectRef<T> => ref !== undefined);
  const readySet = new Set(readyIds);
  return { ready, pending: refs.filter((ref) => !readySet.has(ref.id)) };
}

/**
 * A typed array (zeroed) to build a large value in place: `put` of it (or passing it to a task)
 * stores it without copying its bytes, where `put` of any other array copies them once. On an
 * embedded cluster its memory is shared with the workers, so tasks read it where it is. The stored
 * value is this memory: fill the array first, then put it, and do not write to it afterwards.
 *
 * ```ts
 * const prices = alloc(Float64Array, 12_500_000);   // 100 MB
 * for (let i = 0; i < prices.length; i++) prices[i] = quote(i);
 * const ref = put(prices);                           // no copy
 * ```
 */
export function alloc<T extends AllocatableArray>(kind: AllocatableKind<T>, length: number): T {
  return allocateArray(kind, length);
}

/** Store a value in the object store; returns its ref at once. Do not mutate the value afterwards. */
export function put<T>(value: T): ObjectRef<T> {
  if (value instanceof ObjectRef) throw new TypeError('put() of an ObjectRef is not allowed: pass the ref itself where it is needed');
  return requireRuntime('put()').put(value);
}

/** Options of `cancel`. */
export interface CancelOptions {
  /** Also cancel the tasks the cancelled task submitted (and theirs), as Ray does. @default true */
  recursive?: boolean;
}

/**
 * Cancel the task behind a ref (or a streaming generator's task, as Ray's `cancel` takes an
 * ObjectRefGenerator): whoever gets it sees TaskCancelledError, and so do the tasks it submitted
 * (unless `recursive: false`). Finished tasks are not affected.
 */
export async function cancel(ref: ObjectRef | ObjectRefGenerator, options: CancelOptions = {}): Promise<void> {
  if (options.recursive !== undefined && typeof options.recursive !== 'boolean') throw new TypeError('cancel(): recursive must be a boolean');
  const target = ref instanceof ObjectRefGenerator ? ref.completed() : ref;
  await requireRuntime('cancel()').cancel(checkRef(target, 'cancel()').id, options.recursive ?? true);
}

/** Where this code runs: node, worker, job, and the task or actor when inside one. */
export function getRuntimeContext(): RuntimeContext {
  const context = requireRuntime('getRuntimeContext()').context();
  const scope = taskScope.getStore();
  if (scope) {
    context.taskId = scope.taskId;
    if (scope.actorId !== undefined) context.actorId = scope.actorId;
    if (scope.jobId !== undefined) context.jobId = scope.jobId;
  }
  return context;
}


/** The handle of the live actor named `name`. Throws when there is none. */
export async function getActor<T = unknown>(name: string): Promise<ActorHandle<T>> {
  if (typeof name !== 'string' || name === '') throw new TypeError('getActor() takes an actor name');
  const info = await requireRuntime('getActor()').findActor(name);
  if (!info) throw new ValueNotFoundError(`no live actor is named '${name}': create it with YourClass.options({ name: '${name}' }).remote()`);
  return makeHandle<T>(info.actorId, info.className);
}

/** End an actor now. Calls in flight and later calls fail with ActorDiedError; it is not restarted. */
export async function kill(handle: ActorHandleBase): Promise<void> {
  if (!(handle instanceof ActorHandleBase)) throw new TypeError('kill() takes an actor handle');
  await requireRuntime('kill()').killActor(handle.actorId);
}

/** Options of `asCompleted`. */
export interface AsCompletedOptions {
  /** Give up after this long with GetTimeoutError, if some refs are still not ready. @default no limit */
  timeoutMs?: number;
}

/**
 * The refs, each as soon as its task finishes (or fails: `get` it to see how), in completion
 * order, as concurrent.futures.as_completed. It does not fetch the values.
 */
export async function* asCompleted<T>(refs: Iterable<ObjectRef<T>>, options: AsCompletedOptions = {}): AsyncGenerator<ObjectRef<T>, void, undefined> {
  let pending = [...refs];
  for (const ref of pending) checkRef(ref, 'asCompleted()');
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  while (pending.length > 0) {
    // What is ready now, all at once; else wait for the next one.
    let round = await wait(pending, { numReturns: pending.length, timeoutMs: 0 });
    if (round.ready.length === 0) {
      const timeoutMs = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
      round = await wait(pending, { numReturns: 1, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
      if (round.ready.length === 0) {
        throw new GetTimeoutError(`asCompleted timed out after ${options.timeoutMs} ms with ${pending.length} of its refs not ready; their tasks go on`);
      }
    }
    pending = round.pending;
    for (const ref of round.ready) yield ref;
  }
}
