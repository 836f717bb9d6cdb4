/**
 * The node's side of its clients: the drivers attached to it (in-process or over a WebSocket)
 * and its workers. Each message is handled by the component that owns it.
 */
import {
  DEATH_TIMEOUT_MS, NAME_CLAIM, logger, toErrorPayload, type ClientMessage, type CommonClientMessage, type Connection, type DriverToNode,
  type DriverToNodeOnly, type NodeToDriver, type WorkerToNode, type WorkerToNodeOnly,
} from '@weft/protocol';
import { DriverAcks } from './driver-acks.ts';
import { ownValue } from './object-resolver.ts';
import type { WaitClient } from './object-waits.ts';
import type { WeftNode } from './node.ts';

/** What the handler uses of its node: the components each message goes to, and the node's state. */
export type ClientServices = Pick<WeftNode,
  'nodeId' | 'state' | 'localJobId' | 'store' | 'scheduler' | 'waits' | 'router' | 'actors' | 'streams' | 'head' | 'jobs' | 'family'
  | 'output' | 'cancelTask' | 'clusterResources'>;
import type { WorkerHandle } from './worker-pool.ts';

/** A driver, as replies reach it. */
interface DriverClient extends WaitClient {
  send(message: NodeToDriver): void;
}

export class ClientHandler {
  readonly #clients = new Map<string, WaitClient>();
  /** The connections of attached drivers (workers are the pool's). */
  readonly #connections = new Map<string, Connection<ClientMessage, NodeToDriver>>();
  readonly #jobs = new Map<string, string>();
  /** Messages of drivers whose job is being registered (its code unpacked): they wait for it. */
  readonly #held = new Map<string, DriverToNode[]>();
  /**
   * Drivers whose connection closed: their job and their holds are kept until they reconnect (the
   * same driver id) or the death timeout passes. A job belongs to its driver, not to one connection.
   */
  readonly #away = new Map<string, NodeJS.Timeout>();
  /** Drivers that said they are shutting down: their job ends when their connection closes. */
  readonly #leaving = new Set<string>();
  /** Messages of each driver over the network handled so far, over all its connections (what it need not send again). */
  readonly #received = new Map<string, number>();
  /** Remote drivers owed a `received` acknowledgement (sent with the next reply, or soon after). */
  readonly #acks = new DriverAcks((clientId) => this.#connections.get(clientId)?.send(this.#ack(clientId)));
  readonly #log = logger('client-handler');

  constructor(private readonly node: ClientServices) {}

  /**
   * Serve a driver over `conn` until it closes. `remote`: the messages arrive in network frames,
   * whose bytes are copied out of the frame (into shared memory when large) before they are kept.
   */
  attach(clientId: string, conn: Connection<ClientMessage, NodeToDriver>, options: { remote?: boolean } = {}): void {
    const away = this.#away.get(clientId);
    if (away !== undefined) {
      clearTimeout(away);
      this.#away.delete(clientId);
      this.#log.info({ clientId }, 'a driver reconnected: its job goes on');
    }
    // A driver that reconnects before its old connection's end was noticed here: that one is over
    // (what it still had in flight was counted out of what the driver sends again).
    const previous = this.#connections.get(clientId);
    this.#connections.delete(clientId);
    previous?.close('the driver connected again');
    const client: DriverClient = {
      id: clientId,
      send: (message) => {
        if (this.#acks.take(clientId)) conn.send(this.#ack(clientId));
        conn.send(message);
      },
    };
    this.#clients.set(clientId, client);
    this.#connections.set(clientId, conn);
    if (options.remote) this.#received.set(clientId, this.#received.get(clientId) ?? 0);
    conn.onMessage(options.remote
      ? (message) => {
        this.#acknowledge(clientId);
        this.#fromDriver(client, ownMessage(message));
      }
      : (message) => this.#fromDriver(client, message));
    conn.onClose(() => this.#closed(clientId, conn, options.remote === true));
  }

  /**
   * For a driver that connects while its job is kept here: how many of its messages were handled
   * (it sends the rest again). Undefined: no job of it is kept here (it starts anew).
   */
  resumeCount(clientId: string): number | undefined {
    return this.#away.has(clientId) || this.#connections.has(clientId) ? this.#received.get(clientId) : undefined;
  }

  /** Count a message of a remote driver; it is told how many it has sent that were handled (see DriverAcks). */
  #acknowledge(clientId: string): void {
    this.#received.set(clientId, (this.#received.get(clientId) ?? 0) + 1);
    this.#acks.owe(clientId);
  }

  #ack(clientId: string): NodeToDriver {
    return { type: 'received', count: this.#received.get(clientId) ?? 0 };
  }

  /** A driver's connection closed: its job ends now (it left, or is in this process), or after the death timeout unless it comes back. */
  #closed(clientId: string, conn: Connection<ClientMessage, NodeToDriver>, remote: boolean): void {
    // A newer connection of the same driver took over: this one's end is no news.
    if (this.#connections.get(clientId) !== conn) return;
    this.#connections.delete(clientId);
    const leaving = this.#leaving.delete(clientId);
    if (!remote || leaving || this.node.state !== 'running') return this.drop(clientId);
    // Its open gets were this connection's: the driver asks again when it is back. (Messages held
    // while its job registers stay: they were acknowledged.)
    this.node.waits.dropClient(clientId);
    this.node.streams.dropClient(clientId);
    const timer = setTimeout(() => {
      this.#away.delete(clientId);
      this.#log.info({ clientId }, 'a driver did not come back within the death timeout: its job ends');
      this.drop(clientId);
    }, DEATH_TIMEOUT_MS);
    timer.unref();
    this.#away.set(clientId, timer);
  }

  /** A message from one of the node's workers; a driver's message from a worker is dropped. */
  handleWorker(worker: WorkerHandle, message: ClientMessage): void {
    let client = this.#clients.get(worker.id);
    if (!client) {
      client = { id: worker.id, send: (reply) => worker.conn.send(reply) };
      this.#clients.set(worker.id, client);
    }
    if (!isFromWorker(message)) return this.#log.warn({ workerId: worker.id, type: message.type }, 'dropped a message only a driver sends');
    const { scheduler, actors } = this.node;
    switch (message.type) {
      case 'task-done':
        if (worker.role === 'actor') actors.callDone(worker, message.taskId, message.result);
        else scheduler.taskDone(worker, message.taskId, message.result, message.runMs);
        return;
      case 'task-yield':
        if (scheduler.yielded(message.taskId, worker)) this.node.streams.yielded(message.taskId, message.index, message.value);
        return;
      case 'actor-created':
        return actors.created(worker, message.actorId, message.result);
      case 'worker-ready':
        return;
      case 'task-output':
        return this.node.output.fromWorker(message.chunks);
      default:
        return this.#handle(client, message);
    }
  }

  /**
   * Send to the drivers of `jobId` attached here (a driver that registered no job is the embedded
   * one, of the node's own job); false when none is.
   */
  sendToJob(jobId: string, message: NodeToDriver): boolean {
    let sent = false;
    for (const [clientId, conn] of this.#connections) {
      if ((this.#jobs.get(clientId) ?? this.node.localJobId) !== jobId) continue;
      conn.send(message);
      sent = true;
    }
    return sent;
  }

  /** Close every driver's connection (the node stops); each is dropped as it closes. */
  closeAll(reason: string): void {
    this.#acks.stop();
    for (const conn of [...this.#connections.values()]) conn.close(reason);
  }

  /** A client went away: its holds and open calls go. */
  drop(clientId: string): void {
    clearTimeout(this.#away.get(clientId));
    this.#away.delete(clientId);
    this.#received.delete(clientId);
    this.#acks.drop(clientId);
    this.#held.delete(clientId);
    this.#connections.delete(clientId);
    if (!this.#clients.delete(clientId)) return;
    this.node.waits.dropClient(clientId);
    this.node.streams.dropClient(clientId);
    this.node.store.dropClient(clientId);
    const jobId = this.#jobs.get(clientId);
    if (jobId !== undefined) {
      this.#jobs.delete(clientId);
      // A node that stops (or is fenced) closes its drivers' connections: they reconnect, and their
      // jobs go on.
      if (this.node.state === 'running') this.node.head.jobEvent(jobId, 'finished', this.node.nodeId);
    }
  }

  /** Ask the head for an actor's name; the answer wakes a waiting worker through its signal, or goes to the driver. */
  async #claimActorName(client: WaitClient, message: Extract<CommonClientMessage, { type: 'claim-actor-name' }>): Promise<void> {
    let claimed = false;
    let error: string | undefined;
    try {
      claimed = await this.node.head.claimActorName(message.name, message.actorId);
    } catch (cause) {
      error = `the head could not be asked for the name '${message.name}': ${(cause as Error).message}`;
    }
    if (!message.signal) return client.send({ type: 'name-claim', requestId: message.requestId, claimed, ...(error !== undefined ? { error } : {}) });
    const answer = new Int32Array(message.signal, 0, 1);
    Atomics.store(answer, 0, error !== undefined ? NAME_CLAIM.FAILED : claimed ? NAME_CLAIM.CLAIMED : NAME_CLAIM.TAKEN);
    Atomics.notify(answer, 0);
  }

  /** A message from a driver; a worker's message from a driver is dropped (a driver runs no task or actor to report on). */
  #fromDriver(client: DriverClient, message: ClientMessage): void {
    if (!isFromDriver(message)) return this.#log.warn({ clientId: client.id, type: message.type }, 'dropped a message only a worker sends');
    const held = this.#held.get(client.id);
    if (held) {
      // A driver that reconnected sends its job and its queued work together: the work waits
      // until the job's code is in place, or its tasks would not find their modules.
      held.push(message);
      return;
    }
    switch (message.type) {
      case 'register-job':
        return void this.#registerJob(client, message.requestId, message.jobId, message.package);
      case 'driver-exit':
        this.#leaving.add(client.id);
        return;
      default:
        return this.#handle(client, message);
    }
  }

  /** A message that drivers and workers alike send. */
  #handle(client: WaitClient, message: CommonClientMessage): void {
    const { store, scheduler, waits, router } = this.node;
    switch (message.type) {
      case 'submit-task':
        store.adopt(message.task.taskId);
        if (message.task.parentTaskId !== undefined) this.node.family.add(message.task.taskId, message.task.parentTaskId);
        // The stream of a generator is kept by its owner, this node, before any of its values can come.
        if (message.task.generator) this.node.streams.open(message.task.taskId);
        scheduler.submit(message.task, client.id);
        // Submitted by a task cancelled recursively, and arriving after the cancel: cancelled too.
        if (message.task.parentTaskId !== undefined && this.node.family.isCancelled(message.task.parentTaskId)) this.node.cancelTask(message.task.taskId, true);
        return;
      case 'put-object':
        store.adopt(message.objectId);
        store.addHolder(message.objectId, client.id);
        return store.complete(message.objectId, { status: 'ok', value: message.value });
      case 'get-objects':
        return waits.get(client, message.requestId, message.objectIds, message.taskId);
      case 'cancel-get':
        return waits.cancel(client, message.requestId);
      case 'wait-objects':
        return waits.wait(client, message.requestId, message.objectIds, message.numReturns, message.timeoutMs, message.taskId);
      case 'cancel-task':
        return client.send({ type: 'cancel-result', requestId: message.requestId, cancelled: this.node.cancelTask(message.objectId, message.recursive ?? true) });
      case 'add-refs':
        // (`owners` is not needed: an id tells its owner, see ownerOf.)
        for (const id of message.objectIds) store.addHolder(id, client.id);
        return;
      case 'release-refs':
        for (const id of message.objectIds) store.removeHolder(id, client.id);
        return;
      case 'read-stream':
        return this.node.streams.read(client, message.requestId, message.streamId, message.index, message.taskId);
      case 'create-actor':
        return router.create(message.spec);
      case 'submit-actor-call':
        store.adopt(message.call.callId);
        return router.submit(message.call, client.id);
      case 'kill-actor':
        void router.kill(message.actorId).then((killed) => client.send({ type: 'kill-result', requestId: message.requestId, killed }),
          () => client.send({ type: 'kill-result', requestId: message.requestId, killed: false }));
        return;
      case 'get-actor':
        void router.find(message.name).then((actor) => client.send({ type: 'actor-info', requestId: message.requestId, actor }),
          () => client.send({ type: 'actor-info', requestId: message.requestId, actor: null }));
        return;
      case 'get-resources':
        return client.send({ type: 'resources', requestId: message.requestId, total: this.node.clusterResources() });
      case 'claim-actor-name':
        return void this.#claimActorName(client, message);
      case 'map-progress':
        return this.node.head.mapProgress(message.map);
      default:
        return unknownMessage(message);
    }
  }

  async #registerJob(client: DriverClient, requestId: number, jobId: string, data: Uint8Array | undefined): Promise<void> {
    this.#held.set(client.id, []);
    try {
      this.#jobs.set(client.id, jobId);
      if (data) {
        await this.node.head.putPackage(jobId, data);
        await this.node.jobs.install(jobId, data);
      }
      this.node.head.jobEvent(jobId, 'started', this.node.nodeId);
      client.send({ type: 'job-registered', requestId });
    } catch (error) {
      this.#log.warn({ err: error, jobId }, 'job registration failed');
      client.send({ type: 'job-registered', requestId, error: toErrorPayload(error) });
    } finally {
      const held = this.#held.get(client.id) ?? [];
      this.#held.delete(client.id);
      for (const message of held) this.#fromDriver(client, message);
    }
  }
}

/** Who sends each client message, as messages.ts splits them (a new message type must be listed). */
const SENDER: { [K in ClientMessage['type']]: K extends WorkerToNodeOnly['type'] ? 'worker' : K extends DriverToNodeOnly['type'] ? 'driver' : 'both' } = {
  'task-done': 'worker', 'worker-ready': 'worker', 'actor-created': 'worker', 'task-yield': 'worker', 'task-output': 'worker',
  'register-job': 'driver', 'driver-exit': 'driver',
  'submit-task': 'both', 'put-object': 'both', 'get-objects': 'both', 'cancel-get': 'both', 'wait-objects': 'both', 'cancel-task': 'both',
  'add-refs': 'both', 'release-refs': 'both', 'create-actor': 'both', 'submit-actor-call': 'both', 'kill-actor': 'both', 'get-actor': 'both',
  'read-stream': 'both', 'get-resources': 'both', 'claim-actor-name': 'both', 'map-progress': 'both',
};

const isFromDriver = (message: ClientMessage): message is DriverToNode => SENDER[message.type] !== 'worker';
const isFromWorker = (message: ClientMessage): message is WorkerToNode => SENDER[message.type] !== 'driver';

function unknownMessage(message: never): void {
  throw new Error(`unhandled message ${JSON.stringify((message as { type?: unknown }).type)}`);
}

/** A client message whose values no longer point into a network frame. */
function ownMessage(message: ClientMessage): ClientMessage {
  switch (message.type) {
    case 'submit-task': return { ...message, task: { ...message.task, args: ownValue(message.task.args) } };
    case 'put-object': return { ...message, value: ownValue(message.value) };
    case 'create-actor': return { ...message, spec: { ...message.spec, args: ownValue(message.spec.args) } };
    case 'submit-actor-call': return { ...message, call: { ...message.call, args: ownValue(message.call.args) } };
    default: return message;
  }
}
