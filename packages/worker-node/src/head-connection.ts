/**
 * The node's link to the head: requests with replies (placing an actor, claiming a name, finding
 * an actor, packages), one-way reports (registration, heartbeats, spilled tasks, actor states),
 * and what the head sends this node (the peer list, tasks and actors placed here, state-API
 * queries). The same class serves the embedded cluster (an in-process connection) and a node
 * on another machine (a WebSocket).
 */
import {
  ERROR_CODES, SystemError, fromErrorPayload, logger, type ErrorPayload, sumOf, type ActorLocation, type ActorSpec, type Connection, type HeadReply, type HeadRequest, type HeadToNode,
  type NodeRequest, type NodeStats, type NodeToHead, type LogLine, type MapStatus, type ObjectLocation, type OutputChunk,
  type OutputOrigin, type PeerInfo, type QueryReplies, type ReplyValue, type ResourceSet, type TaskSpec, type TaskEvent,
} from '@weft/protocol';

/** What the node does with the head's messages. */
export interface HeadHandlers {
  peers(nodes: PeerInfo[]): void;
  runTask(task: TaskSpec, owner: string, argLocations: ObjectLocation[]): void;
  spillFailed(taskId: string, error: ErrorPayload): void;
  taskPlaced(taskId: string, nodeId: string): void;
  jobFinished(jobId: string): void;
  /** `restarts`: the actor's restarts so far (the head counts them). */
  hostActor(spec: ActorSpec, owner: string, restarts: number): void;
  /** Kill an actor hosted here (for good); whether it was alive. */
  killActor(actorId: string): boolean;
  /** The head took this node's registration; `restarted`: it is another head instance than the one before (it restarted). */
  registered(restarted: boolean, deathTimeoutMs: number): void;
  /** The head declared this node dead earlier and does not take it back under its id. */
  fenced(reason: string): void;
  /** The answer to a state-API question: QueryReplies[what]. */
  query(what: keyof QueryReplies): QueryReplies[keyof QueryReplies];
  /** Output of a job whose driver is attached here, relayed from the node where it was written. */
  taskOutput(origin: OutputOrigin, chunks: OutputChunk[]): void;
  /** The lines kept here that match, for `weft logs`. */
  queryLogs(filter: { jobId?: string | undefined; taskId?: string | undefined; afterSeq?: number | undefined }): Array<LogLine & OutputOrigin>;
  /** The connection to the head closed for good. */
  lost(reason: string): void;
  /** The connection to the head is back (a restarted head): announce this node again. */
  reconnected(): void;
}

/** Task events in one `task-events` message at most (~100 bytes each on the wire). */
const TASK_EVENTS_PER_MESSAGE = 20_000;

/** Requests to the head fail after this long. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Actors one `place-actors` request carries at most (a burst of 10,000 goes in ten). */
const PLACEMENTS_PER_REQUEST = 1_000;

export class HeadConnection {
  readonly #conn: Connection<HeadToNode, NodeToHead>;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextRequestId = 1;
  #peers: PeerInfo[] = [];
  /** The head instance that took the last registration; absent before the first. */
  #headId: string | undefined;
  /** When the last message from the head arrived (performance.now()). */
  #lastContact = performance.now();
  /** Set when a reconnect attempt was refused (the head's machine answers, no head listens): the head is down, not cut off. */
  #headDown = false;
  readonly #log = logger('head-connection');
  /** Placements asked this turn, by owner, sent together at its end. */
  readonly #placing = new Map<string, Array<{ spec: ActorSpec; resolve(nodeId: string): void; reject(error: Error): void }>>();

  constructor(conn: Connection<HeadToNode, NodeToHead>, private readonly handlers: HeadHandlers) {
    this.#conn = conn;
    conn.onMessage((message) => this.#receive(message));
    conn.onClose((reason) => {
      const error = new SystemError(`lost the connection to the head (${reason})`);
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      handlers.lost(reason);
    });
  }

  /** The connection dropped and is being re-established: requests in flight fail now. */
  disconnected(reason: string): void {
    const error = new SystemError(`lost the connection to the head (${reason}); it is being re-established`);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  /** The connection is back. */
  reconnected(): void {
    this.#headDown = false;
    this.#lastContact = performance.now();
    this.handlers.reconnected();
  }

  /** A reconnect attempt was refused: no head process listens at its address (it is restarting, or stopped). */
  refused(): void {
    this.#headDown = true;
  }

  /**
   * Milliseconds since the head was last heard from, or 0 while it is known to be down rather
   * than cut off (a restarted head knows nothing of this node, so it declares nothing of it).
   */
  silentMs(): number {
    return this.#headDown ? 0 : performance.now() - this.#lastContact;
  }

  register(node: PeerInfo): void {
    this.#conn.send(this.#headId === undefined ? { type: 'register-node', node } : { type: 'register-node', node, headId: this.#headId });
  }

  heartbeat(available: ResourceSet, stats: NodeStats): void {
    this.#conn.send({ type: 'heartbeat', available, stats });
  }

  /**
   * Send the tasks that changed since the last batch, in messages of TASK_EVENTS_PER_MESSAGE at
   * most (a burst's batch stays far under the frame limit). Nothing is sent when nothing changed.
   */
  taskEvents(events: TaskEvent[], dropped: number): void {
    for (let start = 0; start < events.length || (start === 0 && dropped > 0); start += TASK_EVENTS_PER_MESSAGE) {
      const slice = events.length <= TASK_EVENTS_PER_MESSAGE ? events : events.slice(start, start + TASK_EVENTS_PER_MESSAGE);
      this.#conn.send(start === 0 && dropped > 0 ? { type: 'task-events', events: slice, dropped } : { type: 'task-events', events: slice });
      if (events.length === 0) return;
    }
  }

  spill(task: TaskSpec, owner: string, argLocations: ObjectLocation[]): void {
    this.#conn.send({ type: 'spill-task', task, owner, argLocations });
  }

  /**
   * Place an actor: the node it is placed on. The placements asked in one turn of the event loop
   * go to the head in one request (a burst of `.remote()` calls is one round trip, not one each).
   */
  placeActor(spec: ActorSpec, owner: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let batch = this.#placing.get(owner);
      if (!batch) {
        batch = [];
        this.#placing.set(owner, batch);
        if (this.#placing.size === 1) queueMicrotask(() => this.#sendPlacements());
      }
      batch.push({ spec, resolve, reject });
    });
  }

  #sendPlacements(): void {
    const placing = [...this.#placing];
    this.#placing.clear();
    for (const [owner, waiting] of placing) {
      for (let start = 0; start < waiting.length; start += PLACEMENTS_PER_REQUEST) {
        const slice = waiting.slice(start, start + PLACEMENTS_PER_REQUEST);
        this.#request((requestId) => ({ type: 'place-actors', requestId, specs: slice.map((w) => w.spec), owner } satisfies NodeRequest)).then((placements) => {
          slice.forEach((w, i) => {
            const placement = placements[i];
            if (placement && 'nodeId' in placement) w.resolve(placement.nodeId);
            else w.reject(fromErrorPayload(placement?.error ?? { code: ERROR_CODES.SYSTEM, message: 'the head gave no placement for this actor' }));
          });
        }, (error: unknown) => {
          for (const w of slice) w.reject(error instanceof Error ? error : new Error(String(error)));
        });
      }
    }
  }

  /** An actor's state; `placed`: what a restarted head needs to restart it elsewhere. */
  actorState(location: ActorLocation, placed?: { spec: ActorSpec; owner: string; restarts: number }): void {
    this.#conn.send({ type: 'actor-state', ...location, ...placed });
  }

  /** An actor's worker died: the head grants a restart (its number) or records it dead (null). */
  async restartActor(actorId: string, cause: string): Promise<number | null> {
    return this.#request((requestId) => ({ type: 'restart-actor', requestId, actorId, cause } satisfies NodeRequest));
  }

  /** Kill an actor wherever it lives; whether it was alive. */
  async killActor(actorId: string): Promise<boolean> {
    return this.#request((requestId) => ({ type: 'kill-actor', requestId, actorId } satisfies NodeRequest));
  }

  /** Claim an actor's name at the head before the actor is created; false when a live actor has it. */
  async claimActorName(name: string, actorId: string): Promise<boolean> {
    return this.#request((requestId) => ({ type: 'claim-actor-name', requestId, name, actorId } satisfies NodeRequest));
  }

  async findActor(query: { name?: string; actorId?: string }): Promise<ActorLocation | null> {
    return this.#request((requestId) => ({ type: 'find-actor', requestId, ...query } satisfies NodeRequest));
  }

  async putPackage(jobId: string, data: Uint8Array): Promise<void> {
    await this.#request((requestId) => ({ type: 'put-package', requestId, jobId, data } satisfies NodeRequest));
  }

  async getPackage(jobId: string): Promise<Uint8Array> {
    return this.#request((requestId) => ({ type: 'get-package', requestId, jobId } satisfies NodeRequest));
  }

  /** Output of jobs whose drivers are attached elsewhere, for the head to relay. */
  taskOutput(origin: OutputOrigin, chunks: OutputChunk[]): void {
    this.#conn.send({ type: 'task-output', origin, chunks });
  }

  jobEvent(jobId: string, state: 'started' | 'finished', nodeId: string): void {
    this.#conn.send({ type: 'job-event', jobId, state, nodeId });
  }

  /** A map's progress, reported by a client of this node. */
  mapProgress(map: MapStatus): void {
    this.#conn.send({ type: 'map-progress', map });
  }

  /** The nodes of the cluster, as the head last told. */
  peers(): PeerInfo[] {
    return this.#peers;
  }

  /** Total resources of the cluster, as the head last told. */
  clusterResources(): ResourceSet {
    return sumOf(this.#peers.map((peer) => peer.resources));
  }

  close(reason: string): void {
    this.#conn.close(reason);
  }

  /** Send a request to the head; resolves with the value of its reply, typed by the request (see NodeRequestReplies). */
  #request<M extends NodeRequest>(make: (requestId: number) => M): Promise<ReplyValue<M>> {
    // Placements asked before go first: a lookup of a name just claimed must find it.
    if (this.#placing.size > 0) this.#sendPlacements();
    const requestId = this.#nextRequestId++;
    return new Promise<ReplyValue<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new SystemError(`the head did not answer within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.#pending.set(requestId, {
        // The head answers each request with the value its type names (the reply's value is not validated on the wire).
        resolve: (value) => { clearTimeout(timer); resolve(value as ReplyValue<M>); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
      this.#conn.send(make(requestId));
    });
  }

  #receive(message: HeadToNode): void {
    this.#lastContact = performance.now();
    switch (message.type) {
      case 'welcome':
        return;
      case 'registered': {
        const restarted = this.#headId !== undefined && this.#headId !== message.headId;
        this.#headId = message.headId;
        return this.handlers.registered(restarted, message.deathTimeoutMs);
      }
      case 'fenced':
        return this.handlers.fenced(message.reason);
      case 'kill-actor':
        return this.#reply(message, { status: 'ok', value: this.handlers.killActor(message.actorId) });
      case 'peers':
        this.#peers = message.nodes;
        return this.handlers.peers(message.nodes);
      case 'run-task':
        return this.handlers.runTask(message.task, message.owner, message.argLocations);
      case 'spill-failed':
        return this.handlers.spillFailed(message.taskId, message.error);
      case 'host-actor':
        return this.handlers.hostActor(message.spec, message.owner, message.restarts ?? 0);
      case 'task-placed':
        return this.handlers.taskPlaced(message.taskId, message.nodeId);
      case 'job-finished':
        return this.handlers.jobFinished(message.jobId);
      case 'query':
        return this.#answer(message);
      case 'query-logs':
        return this.#reply(message, { status: 'ok', value: this.handlers.queryLogs(message) });
      case 'task-output':
        return this.handlers.taskOutput(message.origin, message.chunks);
      case 'reply': {
        const pending = this.#pending.get(message.requestId);
        this.#pending.delete(message.requestId);
        if (!pending) return;
        if (message.result.status === 'ok') pending.resolve(message.result.value);
        else pending.reject(fromErrorPayload(message.result.error));
        return;
      }
      default:
        return unknownMessage(message);
    }
  }

  #answer(message: Extract<HeadToNode, { type: 'query' }>): void {
    let result: HeadReply<ReplyValue<typeof message>>;
    try {
      result = { status: 'ok', value: this.handlers.query(message.what) };
    } catch (error) {
      this.#log.warn({ err: error, what: message.what }, 'state query failed');
      result = { status: 'error', error: { code: ERROR_CODES.SYSTEM, message: error instanceof Error ? error.message : String(error) } };
    }
    this.#reply(message, result);
  }

  /** Answer a request of the head with the value its type names (see HeadRequestReplies). */
  #reply<M extends HeadRequest>(request: M, result: HeadReply<ReplyValue<M>>): void {
    this.#conn.send({ type: 'reply', requestId: request.requestId, result } satisfies NodeToHead);
  }
}

function unknownMessage(message: never): void {
  throw new Error(`unhandled message ${JSON.stringify((message as { type?: unknown }).type)}`);
}
