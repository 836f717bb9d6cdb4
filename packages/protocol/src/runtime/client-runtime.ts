/**
 * The runtime of a driver or of a worker: it submits tasks, puts and gets objects, and keeps
 * the node told which objects this process holds. It speaks only protocol messages over a
 * Connection, so the same code serves an embedded driver (in-process channel), a worker
 * (MessagePort) and a cluster driver (WebSocket).
 */
import { decode, encode } from '../codec.ts';
import { GetTimeoutError, SystemError, fromErrorPayload } from '../errors.ts';
import { nextId } from '../ids.ts';
import { ObjectRef } from '../object-ref.ts';
import type {
  OutputChunk, OutputOrigin, ActorCallSpec, ActorInfo, ActorSpec, ClientMessage, ClientRequest, ClientRequestReplies, NodeMessage, NodeToWorkerOnly, ResourceSet, TaskSpec,
} from '../messages.ts';
import type { Connection } from '../connection.ts';
import { DEATH_TIMEOUT_MS } from '../liveness.ts';
import { refTracker, type RefSink } from './ref-tracker.ts';
import { taskScope, type RuntimeContext } from './context.ts';
import { currentRuntime } from './runtime-slot.ts';

interface Pending<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  /** The request, sent again if the connection drops and comes back to the same node. */
  message: ClientRequest;
}

/** The request of type T. */
type Request<T extends ClientRequest['type']> = Extract<ClientRequest, { type: T }>;

/**
 * How long requests in flight wait for a dropped connection to come back before they fail: the
 * node keeps a driver's job for the death timeout, and reconnecting backs off up to 5 s.
 */
const RECONNECT_GRACE_MS = DEATH_TIMEOUT_MS + 5_000;

/** Identity of the process a runtime serves. */
export interface RuntimeIdentity {
  /** The node this process talks to (it changes when a cluster driver reconnects to another). */
  nodeId: string;
  workerId: string;
  jobId: string;
  /** Working directory that module paths are relative to. */
  workingDir: string;
}

export class ClientRuntime implements RefSink {
  readonly identity: RuntimeIdentity;
  readonly #conn: Connection<NodeMessage, ClientMessage>;
  readonly #pending = new Map<number, Pending<never> & { resolve(value: unknown): void }>();
  /** Fails what is in flight if the connection does not come back in time (set while it is away). */
  #awayTimer: NodeJS.Timeout | undefined;
  #nextRequestId = 1;
  #creating: string | undefined;
  #closed = false;
  /** Handles node messages that are not replies, which only a worker receives (its executor). */
  onOtherMessage: (message: NodeToWorkerOnly) => void = () => {};
  /**
   * Told when a task starts and stops waiting in get/wait (a worker's executor, which runs the
   * next task meanwhile). The node counts the same events the same way.
   */
  waitHooks: { blocked(taskId: string): void; unblocked(taskId: string): void } | undefined;
  /**
   * Claims an actor name at once, where the head is reachable synchronously (the embedded
   * driver), so that a taken name fails the `.remote()` call itself. Absent elsewhere: the node
   * claims it, and the new actor dies with the reason.
   */
  claimActorName: ((name: string, actorId: string) => boolean) | undefined;
  /** Prints what the job's tasks and actors wrote (a driver with logToDriver); absent: it is dropped. */
  onTaskOutput: ((origin: OutputOrigin, chunks: OutputChunk[]) => void) | undefined;

  constructor(conn: Connection<NodeMessage, ClientMessage>, identity: RuntimeIdentity) {
    this.#conn = conn;
    this.identity = identity;
    conn.onMessage((message) => this.#receive(message));
    conn.onClose((reason) => this.#failAll(reason));
    refTracker.attach(this);
  }

  /** Send a message to the node (used by a worker's executor too). */
  send(message: ClientMessage): void {
    this.#conn.send(message);
  }

  /** A new object (or task) id, owned by this process's node. */
  newId(): string {
    return nextId(this.identity.nodeId);
  }

  /** Make a ref for an id this process just created; the creating message implies the hold. */
  newRef<T>(id: string): ObjectRef<T> {
    this.#creating = id;
    try {
      return new ObjectRef<T>(id, this.identity.nodeId);
    } finally {
      this.#creating = undefined;
    }
  }

  submit<T>(task: TaskSpec): ObjectRef<T> {
    const ref = this.newRef<T>(task.taskId);
    this.#conn.send({ type: 'submit-task', task });
    return ref;
  }

  createActor(spec: ActorSpec): void {
    this.#conn.send({ type: 'create-actor', spec });
  }

  callActor<T>(call: ActorCallSpec): ObjectRef<T> {
    const ref = this.newRef<T>(call.callId);
    this.#conn.send({ type: 'submit-actor-call', call });
    return ref;
  }

  /** Tell the node this driver's job, with its packed working directory (cluster mode). */
  async registerJob(jobId: string, data: Uint8Array | undefined): Promise<void> {
    const requestId = this.#nextRequestId++;
    const message: Request<'register-job'> = { type: 'register-job', requestId, jobId };
    if (data) message.package = data;
    const error = await this.#request(message);
    if (error) throw fromErrorPayload(error);
  }

  /** The cluster's total resources, as the node last heard. */
  async clusterResources(): Promise<ResourceSet> {
    const requestId = this.#nextRequestId++;
    return this.#request({ type: 'get-resources', requestId } satisfies ClientRequest);
  }

  async killActor(actorId: string): Promise<boolean> {
    const requestId = this.#nextRequestId++;
    return this.#request({ type: 'kill-actor', requestId, actorId } satisfies ClientRequest);
  }

  async findActor(name: string): Promise<ActorInfo | null> {
    const requestId = this.#nextRequestId++;
    return this.#request({ type: 'get-actor', requestId, name } satisfies ClientRequest);
  }

  put<T>(value: T): ObjectRef<T> {
    const encoded = encode(value);
    const id = this.newId();
    const ref = this.newRef<T>(id);
    this.#conn.send({ type: 'put-object', objectId: id, value: encoded });
    return ref;
  }

  async get(ids: string[], timeoutMs?: number): Promise<unknown[]> {
    const requestId = this.#nextRequestId++;
    const taskId = taskScope.getStore()?.taskId;
    const message: Request<'get-objects'> = taskId === undefined
      ? { type: 'get-objects', requestId, objectIds: ids }
      : { type: 'get-objects', requestId, objectIds: ids, taskId };
    const results = await this.#blocking(taskId, () => this.#request(message,
      timeoutMs, () => new GetTimeoutError(`get timed out after ${timeoutMs} ms waiting for ${ids.length === 1 ? `object ${ids[0]}` : `${ids.length} objects`}; the tasks go on: get again later, or cancel them`)));
    return results.map((result) => {
      if (result.status === 'error') throw fromErrorPayload(result.error);
      return decode(result.value.data);
    });
  }

  async wait(ids: string[], numReturns: number, timeoutMs: number | null): Promise<string[]> {
    const requestId = this.#nextRequestId++;
    const taskId = taskScope.getStore()?.taskId;
    const message: Request<'wait-objects'> = { type: 'wait-objects', requestId, objectIds: ids, numReturns, timeoutMs };
    if (taskId !== undefined) message.taskId = taskId;
    return this.#blocking(taskId, () => this.#request(message));
  }

  /**
   * The id of item `index` of the generator task `streamId`'s stream once it is yielded (the
   * answer holds it for this process, as a submit holds its result), or null when the task ended
   * before yielding it. A task reading a stream waits as in get (its CPUs are lent meanwhile).
   */
  async readStream(streamId: string, index: number): Promise<string | null> {
    const requestId = this.#nextRequestId++;
    const taskId = taskScope.getStore()?.taskId;
    const message: Request<'read-stream'> = { type: 'read-stream', requestId, streamId, index };
    if (taskId !== undefined) message.taskId = taskId;
    return this.#blocking(taskId, () => this.#request(message));
  }

  async #blocking<T>(taskId: string | undefined, call: () => Promise<T>): Promise<T> {
    const hooks = taskId === undefined ? undefined : this.waitHooks;
    if (!hooks || taskId === undefined) return call();
    hooks.blocked(taskId);
    try {
      return await call();
    } finally {
      hooks.unblocked(taskId);
    }
  }

  /** Cancel the task that makes `id`; `recursive`: and the tasks it submitted. @default true */
  async cancel(id: string, recursive = true): Promise<boolean> {
    const requestId = this.#nextRequestId++;
    return this.#request(recursive
      ? { type: 'cancel-task', requestId, objectId: id } satisfies ClientRequest
      : { type: 'cancel-task', requestId, objectId: id, recursive } satisfies ClientRequest);
  }

  context(): RuntimeContext {
    const { nodeId, workerId, jobId } = this.identity;
    return { nodeId, workerId, jobId };
  }

  acquired(id: string, owner: string | undefined): void {
    if (id === this.#creating || this.#closed) return;
    this.#conn.send(owner === undefined || owner === this.identity.nodeId
      ? { type: 'add-refs', objectIds: [id] }
      : { type: 'add-refs', objectIds: [id], owners: [owner] });
  }

  released(ids: string[]): void {
    if (!this.#closed) this.#conn.send({ type: 'release-refs', objectIds: ids });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#awayTimer);
    // Its refs die with it: a runtime started later must not hear of them (ref-tracker.ts, generations).
    refTracker.detach(this);
    // The job ends with this connection, not after the death timeout.
    this.#conn.send({ type: 'driver-exit' });
    this.#conn.close('runtime shut down');
  }

  /** Why a call through this runtime fails after shutdown(): none running, or a newer one that this object is not of. */
  #closedError(): SystemError {
    const current = currentRuntime();
    if (current === undefined || current === this) return new SystemError('weft is shut down: call init() first', 'NOT_INITIALIZED');
    return new SystemError('this belongs to a weft runtime that was shut down (a generator, map or actor handle made before shutdown()); '
      + 'nothing outlives shutdown(), not even after init() again: make it anew in the current runtime', 'NOT_INITIALIZED');
  }

  /** Send a request; resolves with the value of its answer, typed by the request (see ClientRequestReplies). */
  #request<M extends ClientRequest>(message: M, timeoutMs?: number, timeoutError?: () => Error): Promise<ClientRequestReplies[M['type']]> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const requestId = message.requestId;
    return new Promise<ClientRequestReplies[M['type']]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeoutMs !== undefined && timeoutError) {
        timer = setTimeout(() => {
          this.#pending.delete(requestId);
          this.#conn.send({ type: 'cancel-get', requestId });
          reject(timeoutError());
        }, timeoutMs);
      }
      this.#pending.set(requestId, {
        // #settle passes the value its request's type names: an answer is paired with its request by requestId alone.
        resolve: (value: unknown) => { if (timer) clearTimeout(timer); resolve(value as ClientRequestReplies[M['type']]); },
        reject: (error: Error) => { if (timer) clearTimeout(timer); reject(error); },
        message,
      });
      this.#conn.send(message);
    });
  }

  /** Resolve the request `requestId`, of type T, with its answer's value. */
  #settle<T extends keyof ClientRequestReplies>(requestId: number, value: ClientRequestReplies[T]): void {
    const pending = this.#pending.get(requestId);
    if (!pending) return; // timed out already
    this.#pending.delete(requestId);
    pending.resolve(value);
  }

  #receive(message: NodeMessage): void {
    switch (message.type) {
      case 'objects': return this.#settle<'get-objects'>(message.requestId, message.results);
      case 'wait-result': return this.#settle<'wait-objects'>(message.requestId, message.readyIds);
      case 'cancel-result': return this.#settle<'cancel-task'>(message.requestId, message.cancelled);
      case 'kill-result': return this.#settle<'kill-actor'>(message.requestId, message.killed);
      case 'actor-info': return this.#settle<'get-actor'>(message.requestId, message.actor);
      case 'job-registered': return this.#settle<'register-job'>(message.requestId, message.error);
      case 'stream-item': return this.#settle<'read-stream'>(message.requestId, message.objectId);
      case 'received': return; // the connection keeps what is not acknowledged
      case 'resources': return this.#settle<'get-resources'>(message.requestId, message.total);
      case 'task-output': return this.onTaskOutput?.(message.origin, message.chunks);
      case 'job-dir':
      case 'create-actor-instance':
      case 'actor-call':
      case 'execute-task':
      case 'drop-task':
      case 'drop-actor':
        return this.onOtherMessage(message);
    }
  }

  /**
   * The connection dropped and is being re-established (a cluster driver): requests in flight
   * wait for it, and fail if it is not back within RECONNECT_GRACE_MS.
   */
  disconnected(reason: string): void {
    clearTimeout(this.#awayTimer);
    this.#awayTimer = setTimeout(() => this.#failAll(`${reason}; not back within ${RECONNECT_GRACE_MS / 1000} s`), RECONNECT_GRACE_MS);
    this.#awayTimer.unref();
  }

  /**
   * The connection is back, and what was sent meanwhile has gone: requests in flight are asked
   * again (their answers may have been lost). The same node, which kept this driver's job,
   * answers them; a restarted one says which objects it never had (they were lost with the old one).
   */
  resumed(): void {
    clearTimeout(this.#awayTimer);
    this.#awayTimer = undefined;
    // (A registration is among what was sent again, or was sent anew.)
    for (const pending of this.#pending.values()) if (pending.message.type !== 'register-job') this.#conn.send(pending.message);
  }

  #failAll(reason: string): void {
    const error = new SystemError(`lost the connection to the node (${reason}); the request cannot complete`);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

export { currentRuntime, setRuntime } from './runtime-slot.ts';
