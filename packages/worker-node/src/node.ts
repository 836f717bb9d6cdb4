/**
 * A node: its object store, worker pool and local scheduler, and the clients (drivers and
 * workers) that talk to it in protocol messages. It wires components together and delegates.
 */
import {
  logger, randomId, type ClientMessage, type Connection, type EmbeddedCluster, type HeadLink, type NodeMessage,
  type ResourceSet, inProcessPair,
} from '@weft/core';
import { ActorManager } from './actor-manager.ts';
import { LocalScheduler, describeExit } from './local-scheduler.ts';
import { ObjectStore } from './object-store.ts';
import { ObjectWaits, type WaitClient } from './object-waits.ts';
import { WorkerPool, type WorkerHandle } from './worker-pool.ts';

/** Options of a node. */
export interface NodeOptions {
  numCpus: number;
  resources: ResourceSet;
  head: HeadLink;
  workingDir: string;
  jobId?: string;
  /** Heap limit of each worker, MiB. Absent: Node's default. */
  workerHeapLimitMb?: number;
}

/** Extra workers beyond one per CPU, for zero-CPU tasks and CPUs lent by tasks waiting in get. */
const EXTRA_WORKERS = 8;

export class WeftNode implements EmbeddedCluster {
  readonly nodeId = randomId('node');
  readonly store = new ObjectStore();
  readonly pool: WorkerPool;
  readonly scheduler: LocalScheduler;
  readonly waits: ObjectWaits;
  readonly actors: ActorManager;
  state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  readonly #head: HeadLink;
  readonly #clients = new Map<string, WaitClient>();
  readonly #log = logger('node');
  readonly #minWorkers: number;

  constructor(options: NodeOptions) {
    const total: ResourceSet = { ...options.resources, CPU: options.numCpus };
    this.#head = options.head;
    this.#minWorkers = Math.max(1, Math.ceil(options.numCpus));
    this.pool = new WorkerPool({
      nodeId: this.nodeId, jobId: options.jobId ?? 'job-embedded', workingDir: options.workingDir,
      minWorkers: this.#minWorkers, maxWorkers: this.#minWorkers + EXTRA_WORKERS,
      ...(options.workerHeapLimitMb !== undefined ? { heapLimitMb: options.workerHeapLimitMb } : {}),
      onMessage: (worker, message) => this.#handle(this.#workerClient(worker), message, worker),
      onReady: () => this.scheduler.dispatch(),
      onExit: (worker, code) => this.#workerExited(worker, code),
    });
    this.scheduler = new LocalScheduler(this.nodeId, total, this.store, this.pool, this.#head);
    this.actors = new ActorManager(this.nodeId, this.store, this.scheduler, this.pool, this.#head);
    this.scheduler.beforeDispatch = () => this.actors.placePending();
    this.waits = new ObjectWaits(this.store, (taskId) => this.scheduler.blocked(taskId), (taskId) => this.scheduler.unblocked(taskId));
    this.#head.registerNode({ nodeId: this.nodeId, resources: total });
  }

  async start(): Promise<void> {
    await this.pool.start();
    this.state = 'running';
  }

  /** Connect an in-process client (the embedded driver). */
  connect(clientId: string): Connection<NodeMessage, ClientMessage> {
    const [clientEnd, nodeEnd] = inProcessPair<NodeMessage, ClientMessage>();
    const client: WaitClient = { id: clientId, send: (message) => nodeEnd.send(message) };
    this.#clients.set(clientId, client);
    nodeEnd.onMessage((message) => this.#handle(client, message, undefined));
    nodeEnd.onClose(() => this.#dropClient(clientId));
    return clientEnd;
  }

  claimActorName(name: string, actorId: string): boolean {
    return this.#head.claimActorName(name, actorId);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    await this.pool.stop();
    this.#head.unregisterNode(this.nodeId);
    this.state = 'stopped';
  }

  #workerClient(worker: WorkerHandle): WaitClient {
    let client = this.#clients.get(worker.id);
    if (!client) {
      client = { id: worker.id, send: (message) => worker.conn.send(message) };
      this.#clients.set(worker.id, client);
    }
    return client;
  }

  #handle(client: WaitClient, message: ClientMessage, worker: WorkerHandle | undefined): void {
    switch (message.type) {
      case 'submit-task':
        return this.scheduler.submit(message.task, client.id);
      case 'put-object':
        this.store.addHolder(message.objectId, client.id);
        return this.store.complete(message.objectId, { status: 'ok', value: message.value });
      case 'get-objects':
        return this.waits.get(client, message.requestId, message.objectIds, message.taskId);
      case 'cancel-get':
        return this.waits.cancel(client, message.requestId);
      case 'wait-objects':
        return this.waits.wait(client, message.requestId, message.objectIds, message.numReturns, message.timeoutMs, message.taskId);
      case 'cancel-task':
        return client.send({ type: 'cancel-result', requestId: message.requestId, cancelled: this.scheduler.cancel(message.objectId) });
      case 'add-refs':
        for (const id of message.objectIds) this.store.addHolder(id, client.id);
        return;
      case 'release-refs':
        for (const id of message.objectIds) this.store.removeHolder(id, client.id);
        return;
      case 'task-done':
        if (worker?.role === 'actor') this.actors.callDone(worker, message.taskId, message.result);
        else if (worker) this.scheduler.taskDone(worker, message.taskId, message.result, message.runMs);
        return;
      case 'create-actor':
        return this.actors.create(message.spec);
      case 'submit-actor-call':
        return this.actors.submit(message.call, client.id);
      case 'kill-actor':
        return client.send({ type: 'kill-result', requestId: message.requestId, killed: this.actors.kill(message.actorId) });
      case 'get-actor':
        return client.send({ type: 'actor-info', requestId: message.requestId, actor: this.actors.find(message.name) });
      case 'actor-created':
        if (worker) this.actors.created(worker, message.result);
        return;
      case 'worker-ready':
        return;
      default:
        return unknownMessage(message);
    }
  }

  #dropClient(clientId: string): void {
    this.#clients.delete(clientId);
    this.waits.dropClient(clientId);
    this.store.dropClient(clientId);
  }

  #workerExited(worker: WorkerHandle, code: number): void {
    this.#log.info({ workerId: worker.id, code, killedFor: worker.killedFor }, 'worker exited');
    this.#dropClient(worker.id);
    if (worker.role === 'actor') {
      this.actors.workerExited(worker, worker.killedFor ?? describeExit(worker, code));
      return;
    }
    this.scheduler.workerExited(worker, code);
    if (this.state === 'running' && this.pool.taskWorkers() < this.#minWorkers) this.pool.spawn();
  }
}

/** Start a node (the embedded cluster's, or a machine's). */
export async function startNode(options: NodeOptions): Promise<WeftNode> {
  const node = new WeftNode(options);
  await node.start();
  return node;
}

/** Exhaustiveness: a new message type must be handled above. */
function unknownMessage(message: never): void {
  throw new Error(`unhandled message ${JSON.stringify((message as { type?: unknown }).type)}`);
}
