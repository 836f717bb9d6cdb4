/**
 * A node: its object store, worker pool, local scheduler and actors, its link to the head and to
 * the other nodes, and the clients (drivers and workers) that talk to it in protocol messages.
 * It wires components together and delegates; the same node serves the embedded cluster (head
 * and driver in-process) and a machine of a cluster (WebSockets).
 */
import {
  inProcessPair, logger, ownerOf, randomId, toErrorPayload, type ClientMessage, type Connection, type HeadToNode,
  type NodeToDriver, type NodeToHead, type ObjectListing, type ObjectLocation, type PeerMessage, type QueryReplies,
  type ResourceSet, type TaskSpec,
} from '@weft/protocol';
import os from 'node:os';
import path from 'node:path';
import { ActorManager } from './actor-manager.ts';
import { Borrows } from './borrows.ts';
import { ObjectSpiller } from './object-spiller.ts';
import { ActorRouter } from './actor-router.ts';
import { ClientHandler } from './client-handler.ts';
import { GeneratorStreams } from './generator-streams.ts';
import { HeadConnection } from './head-connection.ts';
import { JobDirectories } from './job-directories.ts';
import { LocalScheduler } from './local-scheduler.ts';
import { Membership } from './membership.ts';
import { TaskFamily } from './task-family.ts';
import { TaskOutput } from './task-output.ts';
import { describeExit } from './worker-exit.ts';
import { ObjectResolver, ownValue, peerHolder } from './object-resolver.ts';
import { ObjectStore, type ObjectEntry } from './object-store.ts';
import { ObjectWaits } from './object-waits.ts';
import { PeerHandler } from './peer-handler.ts';
import { PeerNetwork, type PeerConnector } from './peer-network.ts';
import { WorkerPool, type WorkerHandle } from './worker-pool.ts';
import { defaultHeapLimitMb, minWorkersFor, type StartedThread } from './worker-threads.ts';

/** Options of a node. */
export interface NodeOptions {
  numCpus: number;
  resources: ResourceSet;
  /** The connection to the head (in-process, or a WebSocket). */
  head: Connection<HeadToNode, NodeToHead>;
  /** Directory of the embedded job's code (and the default for unknown jobs). */
  workingDir: string;
  /** The embedded driver's job, whose code is `workingDir`. Absent on cluster nodes. */
  jobId?: string;
  /** Heap limit of each worker, MiB. @default defaultHeapLimitMb(numCpus) */
  workerHeapLimitMb?: number;
  /**
   * Worker threads started already with this node's id and these options (startWorkerThread):
   * the pool's first task workers. The embedded driver starts them before it loads the node.
   */
  startedWorkers?: StartedThread[];
  /**
   * Modules (paths) the workers are likely to import: those of the driver's remote functions and
   * actor classes defined so far. The TypeScript ones are compiled while the workers start.
   */
  workerModules?: readonly string[];
  /**
   * Modules (URLs) each worker imports as it starts, before the users' modules and without the
   * TypeScript hooks: what every task module imports (@weft/core), so that its modules do not each
   * go through the hooks thread. @default []
   */
  workerPreload?: string[];
  /** ws:// URL where other nodes reach this one. Absent: embedded (no peers). */
  address?: string;
  /** Opens connections to other nodes. Absent: embedded. */
  connectPeer?: PeerConnector;
  /** Where cluster jobs' code is unpacked. */
  sessionDir?: string;
  /** Between heartbeats to the head (they carry the free resources other nodes spill by). @default 200 */
  heartbeatMs?: number;
  /**
   * Whether the node logs its tasks for the head's task table and the state API (their events go
   * to the head with each heartbeat). The embedded node does not: its head keeps no task table.
   * @default true
   */
  recordTasks?: boolean;
  /** The node's id. @default a new random id */
  nodeId?: string;
  /** Bytes of values the object store keeps in memory before it spills to disk. @default 30% of RAM */
  objectStoreMemory?: number;
  /**
   * Told when this node must start over as a new, empty node: the head declared it dead (it is
   * `fenced`), or the head went silent for long enough that it is about to (the node's lease on
   * its actors ran out). The node has not stopped yet; the callee stops it and starts another.
   * Absent (embedded, beside the head: the head is in this process): the lease is not kept.
   */
  onFenced?: (reason: string) => void;
}

/** Extra workers beyond one per CPU, for zero-CPU tasks and CPUs lent by tasks waiting in get. */
const EXTRA_WORKERS = 8;

export class WeftNode {
  readonly nodeId: string;
  readonly store: ObjectStore;
  readonly borrows: Borrows;
  readonly family = new TaskFamily();
  readonly pool: WorkerPool;
  readonly scheduler: LocalScheduler;
  readonly waits: ObjectWaits;
  readonly actors: ActorManager;
  readonly router: ActorRouter;
  readonly resolver: ObjectResolver;
  readonly peers: PeerNetwork;
  readonly head: HeadConnection;
  readonly jobs: JobDirectories;
  readonly spiller: ObjectSpiller;
  readonly clients: ClientHandler;
  readonly streams: GeneratorStreams;
  /** What tasks and actors wrote: kept, and sent to their drivers. */
  readonly output: TaskOutput;
  /** The embedded driver's job; absent on cluster nodes. */
  readonly localJobId: string | undefined;
  state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  readonly #options: NodeOptions;
  readonly #total: ResourceSet;
  readonly #log = logger('node');
  readonly #minWorkers: number;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #membership: Membership;
  /** Messages from other nodes, and what follows when one joins, leaves or dies. */
  readonly #peerHandler: PeerHandler;

  constructor(options: NodeOptions) {
    this.nodeId = options.nodeId ?? randomId('node');
    this.store = new ObjectStore(this.nodeId, ownerOf);
    this.#options = options;
    this.localJobId = options.jobId;
    this.#total = { ...options.resources, CPU: options.numCpus };
    this.#minWorkers = minWorkersFor(options.numCpus);
    this.pool = new WorkerPool({
      nodeId: this.nodeId, jobId: options.jobId ?? 'job-none', localJobId: options.jobId, workingDir: options.workingDir,
      minWorkers: this.#minWorkers, maxWorkers: this.#minWorkers + EXTRA_WORKERS, preload: options.workerPreload ?? [],
      heapLimitMb: options.workerHeapLimitMb ?? defaultHeapLimitMb(options.numCpus), started: options.startedWorkers ?? [],
      precompile: options.workerModules ?? [],
      onMessage: (worker, message) => this.clients.handleWorker(worker, message),
      onReady: (worker) => this.#workerReady(worker),
      onExit: (worker, code) => this.#workerExited(worker, code),
    });
    this.head = new HeadConnection(options.head, {
      peers: (nodes) => this.#peerHandler.peersChanged(nodes),
      runTask: (task, owner, argLocations) => void this.#runTask(task, owner, argLocations),
      spillFailed: (taskId, error) => this.scheduler.spilledDone(taskId, { status: 'error', error }),
      taskPlaced: (taskId, nodeId) => this.scheduler.placedOn(taskId, nodeId),
      jobFinished: (jobId) => {
        this.jobs.finished(jobId);
        this.scheduler.cancelJob(jobId);
        this.actors.killJob(jobId);
      },
      hostActor: (received, owner, restarts) => {
        const spec = { ...received, args: ownValue(received.args) };
        this.#peerHandler.learn(spec.argRefs, [], owner);
        // Known at once, so that calls which arrive while its job's code installs wait for it.
        this.actors.create(spec, this.jobs.ensure(spec.jobId), { owner, restarts });
      },
      killActor: (actorId) => this.actors.kill(actorId),
      registered: (restarted, deathTimeoutMs) => this.#membership.registered(restarted, deathTimeoutMs),
      fenced: (reason) => { if (this.state === 'running') this.#membership.fence(`the head declared this node dead (${reason})`); },
      query: (what) => this.#query(what),
      queryLogs: (filter) => this.output.query(filter),
      taskOutput: (origin, chunks) => this.output.fromHead(origin, chunks),
      lost: (reason) => this.#headLost(reason),
      reconnected: () => this.#announce(),
    });
    this.#membership = new Membership(this.nodeId, () => this.head.silentMs(), options.onFenced, () => this.#peerHandler.peersChanged(this.head.peers()));
    this.peers = new PeerNetwork(this.nodeId, options.connectPeer, {
      message: (from, message) => this.#peerHandler.handle(from, message),
      disconnected: (nodeId, reason) => this.#peerHandler.disconnected(nodeId, reason),
      unreachable: (nodeId, reason) => this.#peerHandler.unreachable(nodeId, reason),
    });
    this.scheduler = new LocalScheduler(this.nodeId, this.#total, this.store, this.pool, {
      spill: (task, owner) => this.head.spill(task, owner, this.scheduler.argLocations(task)),
      remoteView: () => this.#peerHandler.remoteView(),
      cancelRemote: (nodeId, taskId) => this.peers.send(nodeId, { type: 'cancel-task', taskId }),
    }, options.recordTasks ?? true);
    this.resolver = new ObjectResolver(this.nodeId, this.store, this.peers);
    this.actors = new ActorManager(this.nodeId, this.store, this.scheduler, this.pool, this.head, this.#minWorkers);
    this.router = new ActorRouter(this.nodeId, this.head, this.actors, this.peers, this.store,
      (argRefs) => this.scheduler.argLocations({ argRefs } as TaskSpec));
    this.scheduler.beforeDispatch = () => this.actors.placePending();
    this.waits = new ObjectWaits(this.store, (taskId) => this.scheduler.blocked(taskId), (taskId) => this.scheduler.unblocked(taskId));
    this.jobs = new JobDirectories(options.sessionDir, (jobId) => this.head.getPackage(jobId), (jobId, dir) => {
      for (const worker of this.pool.workers.values()) worker.conn.send({ type: 'job-dir', jobId, dir });
    });
    this.streams = new GeneratorStreams(this.store, {
      blocked: (taskId) => this.scheduler.blocked(taskId), unblocked: (taskId) => this.scheduler.unblocked(taskId),
      forward: (entry, owner, message) => this.#returnResult(entry, owner, message), spilledYield: (taskId) => this.scheduler.yielded(taskId),
      release: (to, objectId, afterBorrows) => this.#peerHandler.release(to, objectId, afterBorrows),
    });
    this.clients = new ClientHandler(this);
    this.output = new TaskOutput({ pid: process.pid, nodeId: this.nodeId, ip: hostOf(options.address) }, {
      toDriver: (jobId, origin, chunks) => this.clients.sendToJob(jobId, { type: 'task-output', origin, chunks }),
      toHead: (origin, chunks) => this.head.taskOutput(origin, chunks),
      ownerNode: (taskId) => this.store.get(taskId)?.returnTo,
      toPeer: (nodeId, origin, chunks) => this.peers.send(nodeId, { type: 'task-output', origin, chunks }),
    });
    this.spiller = new ObjectSpiller(this.store, options.objectStoreMemory ?? Math.floor(os.totalmem() * 0.3),
      path.join(options.sessionDir ?? os.tmpdir(), `weft-spill-${this.nodeId}`), this.nodeId);
    this.store.fetch = (entry) => (entry.spilled ? this.spiller.restore(entry) : this.resolver.fetch(entry));
    this.store.onComplete = (entry) => this.#completed(entry);
    this.store.onFree = (entry) => this.#freed(entry);
    this.borrows = new Borrows(this.store, this.peers);
    this.store.onBorrow = (entry) => this.borrows.borrow(entry);
    this.store.onUnborrow = (entry) => this.peers.send(entry.owner as string, { type: 'release-object', objectId: entry.id });
    this.#peerHandler = new PeerHandler({
      nodeId: this.nodeId, store: this.store, peers: this.peers, scheduler: this.scheduler, router: this.router,
      resolver: this.resolver, borrows: this.borrows, streams: this.streams,
      recovering: () => this.#membership.recovering(), cancelTask: (taskId, recursive) => this.cancelTask(taskId, recursive),
      taskOutput: (origin, chunks) => this.output.fromPeer(origin, chunks),
    });
    if (options.jobId !== undefined) this.jobs.set(options.jobId, options.workingDir);
  }

  async start(): Promise<void> {
    this.head.register({ nodeId: this.nodeId, address: this.#options.address ?? '', resources: this.#total });
    // Heartbeats from the registration on, not once the workers are up: the head declares a node
    // dead after its death timeout without one, and on a busy machine the first worker (loading
    // the code) can take longer than that to start, while the head already places work here.
    this.#heartbeat = setInterval(() => {
      this.#sendHeartbeat();
      if (this.state === 'running') this.#membership.check();
    }, this.#options.heartbeatMs ?? 200);
    this.#heartbeat.unref();
    this.#sendHeartbeat();
    try {
      await this.pool.start();
    } catch (error) {
      clearInterval(this.#heartbeat);
      throw error;
    }
    this.state = 'running';
  }

  /** Connect an in-process client (the embedded driver). */
  connect(clientId: string): Connection<NodeToDriver, ClientMessage> {
    const [clientEnd, nodeEnd] = inProcessPair<NodeToDriver, ClientMessage>();
    this.clients.attach(clientId, nodeEnd);
    return clientEnd;
  }

  /**
   * Cancel a task of this node; `recursive`: and the tasks it submitted that have not finished,
   * and theirs. Whether the task itself was still to finish.
   */
  cancelTask(taskId: string, recursive: boolean): boolean {
    const children = recursive ? this.family.childrenOf(taskId) : [];
    if (recursive) this.family.cancelledRecursively(taskId);
    const cancelled = this.scheduler.cancel(taskId);
    for (const child of children) this.cancelTask(child, true);
    return cancelled;
  }

  /** The cluster's total resources, as the head last told (this node's own until it has). */
  clusterResources(): ResourceSet {
    const total = this.head.clusterResources();
    return Object.keys(total).length > 0 ? total : { ...this.#total };
  }

  /** A connection from another node. */
  acceptPeer(nodeId: string, conn: Connection<PeerMessage, PeerMessage>): void {
    this.peers.accept(nodeId, conn);
  }

  /** Stop: workers end (tasks and actors with them), connections close, spilled files go. */
  async stop(reason = 'node stopping'): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    clearInterval(this.#heartbeat);
    this.#membership.stop();
    this.peers.close();
    this.clients.closeAll(reason);
    await this.pool.stop();
    this.output.flush();
    // The last changes (the tasks its workers ended with) reach the head before the node goes.
    this.#sendTaskEvents();
    this.head.close(reason);
    this.spiller.clear();
    this.state = 'stopped';
  }

  async #runTask(received: TaskSpec, owner: string, argLocations: ObjectLocation[]): Promise<void> {
    // Its arguments arrived in a network frame (or from this node's own queue: copying is cheap).
    const task = { ...received, args: ownValue(received.args) };
    this.#peerHandler.learn(task.argRefs, argLocations, owner);
    try {
      await this.jobs.ensure(task.jobId);
    } catch (error) {
      this.peers.send(owner, { type: 'task-result', taskId: task.taskId, result: { status: 'error', error: toErrorPayload(error) } });
      return;
    }
    const copy = this.store.get(task.taskId);
    if (owner !== this.nodeId && (copy?.result?.status === 'ok' || copy?.spilled)) {
      // Its result is here already (a copy pulled for a task that ran here, and the node that made
      // it died): the owner gets that copy rather than a run whose result this store would drop.
      this.store.addHolder(task.taskId, peerHolder(owner));
      this.store.onResult(copy, (entry) => this.#returnResult(entry, owner));
      return;
    }
    this.scheduler.submit(task, peerHolder(owner), owner === this.nodeId ? undefined : owner);
  }

  #completed(entry: ObjectEntry): void {
    this.family.finished(entry.id);
    this.spiller.check();
    this.resolver.notify(entry);
    this.streams.completed(entry);
    if (entry.returnTo === undefined || !entry.result) return;
    this.#returnResult(entry, this.store.takeReturnTo(entry) as string);
  }

  /**
   * Tell a task's owner its outcome: small values whole, large ones by where they are (here). Sent
   * once this node's borrows are acknowledged: refs the task took or made must be registered at
   * their owners before the owner of the task lets go of its arguments. `message`: what tells it
   * (a generator's values go as `task-yield`, in the order they were yielded, before its result).
   */
  #returnResult(entry: ObjectEntry, returnTo: string,
    message = (result: Extract<PeerMessage, { type: 'task-result' }>['result']): PeerMessage => ({ type: 'task-result', taskId: entry.id, result })): void {
    void this.borrows.settled().then(() => {
      if (!entry.result) return;
      const outcome = this.resolver.describe(entry);
      this.peers.send(returnTo, message(outcome));
      // A small result travelled whole, and goes here, unless refs inside it must stay alive
      // until the owner borrowed them (it then releases it); a large one stays until released.
      if (outcome.status === 'error' || (outcome.status === 'ok' && !outcome.value.refs)) this.store.removeHolder(entry.id, peerHolder(returnTo));
    });
  }

  #freed(entry: ObjectEntry): void {
    this.scheduler.forget(entry.id);
    this.streams.freed(entry);
    this.spiller.forget(entry);
    // The owner held it for this node (a borrow, or a subscription): no more.
    if (entry.owner !== undefined && entry.borrowed) this.peers.send(entry.owner, { type: 'release-object', objectId: entry.id });
    if (entry.location && entry.location.nodeId !== this.nodeId) this.peers.send(entry.location.nodeId, { type: 'release-object', objectId: entry.id });
  }

  #sendHeartbeat(): void {
    const counts = this.scheduler.counts();
    const { objects, bytes, spilledObjects, spilledBytes } = this.store.stats();
    const { pulled, pushed } = this.resolver.transferred();
    // Available amounts go below zero while resumed tasks take their CPUs back: report none free.
    const available = Object.fromEntries(Object.entries(this.scheduler.available()).map(([name, amount]) => [name, Math.max(0, amount)]));
    this.head.heartbeat(available, {
      objects, objectBytes: bytes, workers: this.pool.workers.size, actors: this.actors.liveCount(),
      queued: counts.queued + counts.waiting, running: counts.running + counts.assigned,
      memoryBytes: process.memoryUsage.rss(), memoryTotalBytes: os.totalmem(), storeCapacityBytes: this.spiller.capacity,
      spilledObjects, spilledBytes, bytesPulled: pulled, bytesPushed: pushed,
    });
    this.#sendTaskEvents();
  }

  /** The tasks that changed since the last heartbeat, to the head's task table (off every task's path). */
  #sendTaskEvents(): void {
    const { events, dropped } = this.scheduler.drainTaskEvents();
    if (events.length > 0 || dropped > 0) this.head.taskEvents(events, dropped);
  }

  #query(what: keyof QueryReplies): QueryReplies[keyof QueryReplies] {
    switch (what) {
      case 'objects':
        return [...this.store.entries()].filter((entry) => entry.result).map((entry): ObjectListing => ({
          objectId: entry.id, nodeId: this.nodeId, size: entry.result?.status === 'ok' ? entry.result.value.data.byteLength : 0,
          status: entry.result?.status, holders: entry.holders.size, heldBy: [...entry.holders], pins: entry.pins,
          ...(entry.owner !== undefined ? { owner: entry.owner } : {}), ...(entry.borrowed ? { borrowed: true } : {}),
        }));
      case 'actors':
        return this.actors.list().map((actor) => ({ ...actor, nodeId: this.nodeId })) satisfies QueryReplies['actors'];
      case 'tasks':
        return this.scheduler.recent() satisfies QueryReplies['tasks'];
    }
  }

  #workerReady(worker: WorkerHandle): void {
    // Before anything else is sent to it: its first task or actor may belong to any of these jobs.
    for (const [jobId, dir] of this.jobs.known()) worker.conn.send({ type: 'job-dir', jobId, dir });
    this.scheduler.dispatch();
  }

  #workerExited(worker: WorkerHandle, code: number): void {
    this.#log.info({ workerId: worker.id, code, killedFor: worker.killedFor }, 'worker exited');
    this.clients.drop(worker.id);
    if (worker.role === 'actor') {
      this.actors.workerExited(worker, worker.killedFor ?? describeExit(worker, code));
      return;
    }
    this.scheduler.workerExited(worker, code);
    if (this.state === 'running' && this.pool.taskWorkers() < this.#minWorkers) this.pool.spawn();
  }

  /**
   * Register again after the connection to the head came back, and tell it the actors hosted here.
   * A restarted head takes them back; the head that declared this node dead answers `fenced`.
   */
  #announce(): void {
    this.head.register({ nodeId: this.nodeId, address: this.#options.address ?? '', resources: this.#total });
    for (const { location, placed } of this.actors.placements()) this.head.actorState(location, placed);
    // A restarted head lost the packages: give back those uploaded here.
    for (const [jobId, data] of this.jobs.uploaded) {
      this.head.putPackage(jobId, data).catch((error: unknown) => this.#log.warn({ err: error, jobId }, 'cannot give a package back to the head'));
    }
    this.#sendHeartbeat();
  }

  #headLost(reason: string): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.#log.error({ reason }, 'lost the connection to the head');
  }
}

/** The host of a node's ws:// address, as its output's prefix shows it; 127.0.0.1 for an embedded node. */
function hostOf(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  try {
    return new URL(address).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return address;
  }
}

/** Start a node (the embedded cluster's, or a machine's). */
export async function startNode(options: NodeOptions): Promise<WeftNode> {
  const node = new WeftNode(options);
  await node.start();
  return node;
}

