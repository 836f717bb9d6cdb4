/**
 * The head: owns cluster state (nodes and their resources, actors and their names, jobs and
 * their packages) and the global scheduler. It speaks NodeToHead/HeadToNode messages with each
 * node over a Connection: an in-process one for the embedded cluster and for the node that
 * runs beside the head, a WebSocket for the others. It is never on the path of a task that runs
 * where it was submitted.
 *
 * Membership: the head is the one authority on which nodes are alive. A node is declared dead
 * when its connection closes, its heartbeats stop for the death timeout, or another node registers
 * at its address (the listener there serves that one now); it is never let back under that id.
 * Each head has an instance id (`headId`), which a node gives back when it registers again: the
 * same instance that no longer lists it declared it dead and answers `fenced` (the node then
 * starts over as a new, empty node); another instance is a restarted head, which knows nothing of
 * the node and takes it back with its actors.
 */
import {
  ERROR_CODES, DEATH_TIMEOUT_MS, describeResources, inProcessPair, logger, randomId, shareFrame, type ActorLocation, type ActorSpec, type Connection,
  type ActorPlacement, type HeadReply, type HeadRequest, type HeadToNode, type LogLine, type NodeRequest, type NodeToHead, type ObjectLocation, type OutputOrigin, type QueryReplies,
  type ReplyValue, type TaskSpec,
} from '@weft/protocol';
import { ActorRegistry } from './actor-registry.ts';
import { GlobalScheduler } from './global-scheduler.ts';
import { JobRegistry } from './job-registry.ts';
import { MapTable } from './map-table.ts';
import { NodeRegistry } from './node-registry.ts';
import { relayTargets } from './output-relay.ts';
import { TaskTable, type TaskTableOptions } from './task-table.ts';

/** A node's connection as the head holds it. */
interface NodeSession {
  /** Set once its registration is taken; a session without one (not registered yet, or fenced) is heard only for `register-node`. */
  nodeId: string | undefined;
  readonly conn: Connection<NodeToHead, HeadToNode>;
}

/** Options of a head. */
export interface HeadOptions {
  /** A node silent this long is declared dead. @default DEATH_TIMEOUT_MS */
  deathTimeoutMs?: number;
  /** Bounds of the task table. @default TaskTable's defaults */
  taskTable?: TaskTableOptions;
  /**
   * Keep the task table from the nodes' task events. Its readers are the head server's (the state
   * API, the dashboard's live feed, the metrics): a head that serves none of them, as the embedded
   * one, leaves it empty and saves ~2 µs a task on the driver's thread. @default true
   */
  recordTasks?: boolean;
}

/** How long the head waits for a node to confirm it killed an actor (the kill stands regardless). */
const KILL_ACK_TIMEOUT_MS = 5_000;
/** How long a state query of a node may take. */
const QUERY_TIMEOUT_MS = 2_000;

/** How long after a job's end its tasks not reported ended are taken for cancelled. */
export const JOB_SWEEP_DELAY_MS = 1_000;

export class Head {
  /** This head instance: a restarted head has another. */
  readonly headId = randomId('head');
  readonly deathTimeoutMs: number;
  readonly nodes = new NodeRegistry();
  readonly scheduler = new GlobalScheduler(this.nodes);
  readonly actors = new ActorRegistry();
  readonly jobs = new JobRegistry();
  /** The parallel maps drivers and tasks report. */
  readonly maps = new MapTable();
  /** Every task the nodes report: each job's task graph and the recent history. */
  readonly tasks: TaskTable;
  readonly #sessions = new Map<string, NodeSession>();
  readonly #pending = new Map<number, { session: NodeSession; resolve(result: HeadReply): void }>();
  #nextRequestId = 1;
  readonly #log = logger('head');
  readonly #recordTasks: boolean;

  constructor(options: HeadOptions = {}) {
    this.deathTimeoutMs = options.deathTimeoutMs ?? DEATH_TIMEOUT_MS;
    this.tasks = new TaskTable(options.taskTable);
    this.#recordTasks = options.recordTasks ?? true;
  }

  /** Serve a node over `conn` until it closes. */
  attach(conn: Connection<NodeToHead, HeadToNode>): void {
    const session: NodeSession = { nodeId: undefined, conn };
    conn.onMessage((message) => {
      try {
        this.#handle(session, message);
      } catch (error) {
        this.#log.error({ err: error, type: message.type }, 'head failed to handle a message');
      }
    });
    conn.onClose((reason) => this.#nodeGone(session, reason));
  }

  /** The node end of an in-process connection to this head. */
  connectLocal(): Connection<HeadToNode, NodeToHead> {
    const [nodeEnd, headEnd] = inProcessPair<HeadToNode, NodeToHead>();
    this.attach(headEnd);
    return nodeEnd;
  }

  /** Claim an actor name now (an in-process driver's fast path). */
  claimActorName(name: string, actorId: string): boolean {
    return this.actors.claim(name, actorId);
  }

  /** Ask every live node a question of the state API; answers keyed by node id. */
  async queryNodes<W extends keyof QueryReplies>(what: W): Promise<Map<string, QueryReplies[W]>> {
    const answers = new Map<string, QueryReplies[W]>();
    await Promise.all([...this.#sessions.entries()].map(async ([nodeId, session]) => {
      const result = await this.#ask(session, (requestId) => ({ type: 'query', requestId, what }), QUERY_TIMEOUT_MS);
      if (result.status === 'ok') answers.set(nodeId, result.value);
    }));
    return answers;
  }

  /** The lines every live node keeps that match (for `weft logs`), oldest first on each node. */
  async queryLogs(filter: { jobId?: string; taskId?: string; afterSeq?: number }): Promise<Array<LogLine & OutputOrigin>> {
    const lines: Array<LogLine & OutputOrigin> = [];
    await Promise.all([...this.#sessions.values()].map(async (session) => {
      const result = await this.#ask(session, (requestId) => ({ type: 'query-logs', requestId, ...filter } satisfies HeadRequest), QUERY_TIMEOUT_MS);
      if (result.status === 'ok' && Array.isArray(result.value)) lines.push(...result.value);
    }));
    return lines;
  }

  /** Declare nodes dead that missed heartbeats for the death timeout. */
  checkHeartbeats(): void {
    const cutoff = Date.now() - this.deathTimeoutMs;
    for (const node of this.nodes.all()) {
      if (node.alive && node.lastHeartbeat < cutoff) {
        const session = this.#sessions.get(node.nodeId);
        this.#log.warn({ nodeId: node.nodeId, silentMs: Date.now() - node.lastHeartbeat }, 'node missed its heartbeats; declaring it dead');
        this.#declareDead(node.nodeId, 'missed heartbeats');
      }
    }
  }

  /** Close a node's session (which marks it dead), or mark it dead if it has none. */
  #declareDead(nodeId: string, reason: string): void {
    const session = this.#sessions.get(nodeId);
    if (session) session.conn.close(reason);
    else this.#markDead(nodeId, reason);
  }

  /**
   * Tell every node the others' free resources (they spill where it helps). Sent every few
   * hundred ms whatever changed: a node takes the head's silence for a partition (see WeftNode).
   */
  shareView(): void {
    this.#broadcastPeers();
  }

  #handle(session: NodeSession, message: NodeToHead): void {
    const nodeId = session.nodeId;
    if (message.type === 'register-node') return this.#register(session, message);
    if (message.type === 'reply') return this.#answered(message.requestId, message.result);
    if (message.type === 'hello') return;
    if (nodeId === undefined) return this.#unregistered(session, message);
    switch (message.type) {
      case 'heartbeat':
        return this.nodes.heartbeat(nodeId, message.available, message.stats);
      case 'task-events':
        if (this.#recordTasks) this.tasks.apply(message.events, message.dropped);
        return;
      case 'spill-task':
        return this.#placeTask(session, nodeId, message.task, message.owner, message.argLocations);
      case 'place-actors':
        return this.#reply(session, message, { status: 'ok', value: message.specs.map((spec) => this.#placeActor(spec, message.owner)) });
      case 'actor-state': {
        const { type: _type, spec, owner, restarts, ...location } = message;
        if (!this.actors.reported(nodeId, location, spec && owner !== undefined ? { spec, owner, restarts: restarts ?? 0 } : undefined)) {
          this.#log.debug({ actorId: message.actorId, from: nodeId }, 'ignored the report of an actor that lives on another node now');
        }
        return;
      }
      case 'restart-actor':
        return this.#reply(session, message, { status: 'ok', value: this.#restartInPlace(message.actorId, nodeId, message.cause) });
      case 'kill-actor':
        return void this.#kill(message.actorId).then((killed) => this.#reply(session, message, { status: 'ok', value: killed }));
      case 'claim-actor-name':
        return this.#reply(session, message, { status: 'ok', value: this.actors.claim(message.name, message.actorId) });
      case 'find-actor':
        return this.#reply(session, message, { status: 'ok', value: this.actors.find(message) });
      case 'put-package':
        this.jobs.putPackage(message.jobId, message.data);
        return this.#reply(session, message, { status: 'ok', value: true });
      case 'get-package': {
        const data = this.jobs.packageOf(message.jobId);
        return this.#reply(session, message, data
          ? { status: 'ok', value: data }
          : { status: 'error', error: { code: ERROR_CODES.NOT_FOUND, message: `no working directory was uploaded for job ${message.jobId}` } });
      }
      case 'task-output':
        for (const [target, chunks] of relayTargets(message.chunks, (jobId) => this.jobs.get(jobId), nodeId)) {
          this.#sessions.get(target)?.conn.send({ type: 'task-output', origin: message.origin, chunks });
        }
        return;
      case 'map-progress':
        return this.maps.update(message.map);
      case 'job-event':
        this.jobs.event(message.jobId, message.state, message.nodeId);
        if (message.state === 'finished') {
          this.maps.jobFinished(message.jobId);
          // Tasks not reported ended by then end as cancelled; the nodes' last events about them
          // (sent with their heartbeats, every 200 ms) come first, so a task that finished is not
          // counted as cancelled (its duration would go to the wrong histogram, for good).
          const jobId = message.jobId;
          setTimeout(() => this.tasks.jobFinished(jobId), JOB_SWEEP_DELAY_MS).unref();
          // Its tasks and (undetached) actors go, on every node.
          for (const other of this.#sessions.values()) other.conn.send({ type: 'job-finished', jobId: message.jobId });
        }
        return;
      default:
        return unknownMessage(message);
    }
  }

  #register(session: NodeSession, message: Extract<NodeToHead, { type: 'register-node' }>): void {
    const { node, headId } = message;
    const known = this.nodes.get(node.nodeId);
    if (headId === this.headId && !known?.alive) {
      // This head declared the node dead (and may have restarted its actors elsewhere).
      const reason = known?.deathCause === undefined ? 'this head declared it dead earlier'
        : `this head declared it dead ${Math.round((Date.now() - (known.diedAt ?? 0)) / 1000)} s ago (${known.deathCause})`;
      this.#log.warn({ nodeId: node.nodeId, address: node.address }, 'a node declared dead came back; telling it to start over as a new node');
      session.conn.send({ type: 'fenced', nodeId: node.nodeId, reason });
      return;
    }
    session.nodeId = node.nodeId;
    this.#sessions.set(node.nodeId, session);
    this.nodes.register(node);
    this.#log.info({ nodeId: node.nodeId, address: node.address, resources: node.resources }, 'node registered');
    session.conn.send({ type: 'registered', nodeId: node.nodeId, headId: this.headId, deathTimeoutMs: this.deathTimeoutMs });
    // One listener serves one node at a time: a live node at the same address is the one this one
    // replaced (fenced, it started over under a new id; or it died and its port went to this one),
    // whose end has not reached the head yet (a close sent while cut off arrives seconds late).
    // Meanwhile peers would reach the new node in its place.
    for (const old of this.nodes.all()) {
      if (!old.alive || old.nodeId === node.nodeId || old.address === '' || old.address !== node.address) continue;
      this.#declareDead(old.nodeId, `node ${node.nodeId} registered at its address`);
    }
    this.#broadcastPeers();
  }

  /** A message from a session that is not (or no longer) a registered node: requests fail, reports are dropped. */
  #unregistered(session: NodeSession, message: Exclude<NodeToHead, { type: 'register-node' | 'reply' | 'hello' }>): void {
    this.#log.debug({ type: message.type }, 'dropped a message from a node that is not registered');
    if ('requestId' in message) {
      this.#reply(session, message, { status: 'error', error: { code: ERROR_CODES.NODE_DIED,
        message: 'this node is not registered with the head (it was declared dead, or has not registered yet)' } });
    }
  }

  #placeTask(session: NodeSession, from: string, task: TaskSpec, owner: string, argLocations: ObjectLocation[]): void {
    const bytesOnNode = new Map<string, number>();
    for (const location of argLocations) bytesOnNode.set(location.nodeId, (bytesOnNode.get(location.nodeId) ?? 0) + location.size);
    const nodeId = this.scheduler.place(task.resources, { bytesOnNode, avoid: from });
    const target = nodeId === null ? undefined : this.#sessions.get(nodeId);
    this.#log.debug({ taskId: task.taskId, from, to: nodeId }, 'placed a spilled task');
    if (!target || nodeId === null) {
      session.conn.send({ type: 'spill-failed', taskId: task.taskId, error: { code: ERROR_CODES.TASK_UNSCHEDULABLE,
        message: `task ${task.name} needs ${describeResources(task.resources)} but the whole cluster has ${describeResources(this.nodes.totals())}; `
          + 'ask for less (options({ numCpus })) or add a node that has it' } });
      return;
    }
    target.conn.send({ type: 'run-task', task, owner, argLocations });
    session.conn.send({ type: 'task-placed', taskId: task.taskId, nodeId });
  }

  #placeActor(spec: ActorSpec, owner: string): ActorPlacement {
    const name = spec.options.name;
    if (name !== undefined && !this.actors.claim(name, spec.actorId)) {
      return { error: { code: ERROR_CODES.ACTOR_DIED,
        message: `the name '${name}' is taken by a live actor: names are unique while their actor lives (use getActor('${name}') to reach it)` } };
    }
    const nodeId = this.scheduler.place(spec.options.placement);
    const target = nodeId === null ? undefined : this.#sessions.get(nodeId);
    if (!target || nodeId === null) {
      if (name !== undefined) this.actors.release(name, spec.actorId);
      return { error: { code: ERROR_CODES.TASK_UNSCHEDULABLE,
        message: `it needs ${describeResources(spec.options.placement)} to be placed but the whole cluster has ${describeResources(this.nodes.totals())}` } };
    }
    this.actors.placed(spec, owner, nodeId);
    target.conn.send({ type: 'host-actor', spec, owner });
    return { nodeId };
  }

  /** An actor's worker died on its node: grant a restart there (the restart number), or record it dead (null). */
  #restartInPlace(actorId: string, nodeId: string, cause: string): number | null {
    const record = this.actors.get(actorId);
    if (record?.location.nodeId !== nodeId) return null;
    if (!this.actors.canRestart(actorId)) {
      this.actors.died(actorId);
      return null;
    }
    const restart = this.actors.restarted(actorId, nodeId);
    this.#log.info({ actorId, nodeId, restart, cause }, 'restarting an actor whose worker died');
    return restart;
  }

  /**
   * Kill an actor for good, wherever it lives (or is being restarted); false when it was dead or
   * unknown. Resolves once its node confirmed, died, or did not answer in KILL_ACK_TIMEOUT_MS.
   */
  async #kill(actorId: string): Promise<boolean> {
    const record = this.actors.get(actorId);
    if (!record || record.location.state === 'dead') return false;
    this.actors.died(actorId);
    const host = this.#sessions.get(record.location.nodeId);
    if (host) await this.#ask(host, (requestId) => ({ type: 'kill-actor', requestId, actorId } satisfies HeadRequest), KILL_ACK_TIMEOUT_MS);
    return true;
  }

  /**
   * Send a request to a node; resolves with its reply (its value typed by the request, see
   * HeadRequestReplies), or an error when it times out or the node goes.
   */
  #ask<M extends HeadRequest>(session: NodeSession, make: (requestId: number) => M, timeoutMs: number): Promise<HeadReply<ReplyValue<M>>> {
    const requestId = this.#nextRequestId++;
    return new Promise<HeadReply<ReplyValue<M>>>((resolve) => {
      const timer = setTimeout(() => this.#answered(requestId, { status: 'error', error: { code: ERROR_CODES.SYSTEM, message: 'no answer' } }), timeoutMs);
      timer.unref();
      // A node answers each request with the value its type names (the reply's value is not validated on the wire).
      this.#pending.set(requestId, { session, resolve: (result) => { clearTimeout(timer); resolve(result as HeadReply<ReplyValue<M>>); } });
      session.conn.send(make(requestId));
    });
  }

  #answered(requestId: number, result: HeadReply): void {
    const pending = this.#pending.get(requestId);
    this.#pending.delete(requestId);
    pending?.resolve(result);
  }

  /** Answer a node's request with the value its type names (see NodeRequestReplies). */
  #reply<M extends NodeRequest>(session: NodeSession, request: M, result: HeadReply<ReplyValue<M>>): void {
    session.conn.send({ type: 'reply', requestId: request.requestId, result } satisfies HeadToNode);
  }

  #broadcastPeers(): void {
    // One message for every node, encoded once: N encodings of an N-node list every 200 ms were
    // most of an idle head's CPU at 50 nodes.
    const message = shareFrame({ type: 'peers', nodes: this.nodes.peers() } satisfies HeadToNode);
    for (const session of this.#sessions.values()) session.conn.send(message);
  }

  #nodeGone(session: NodeSession, reason: string): void {
    for (const [requestId, pending] of this.#pending) {
      if (pending.session === session) this.#answered(requestId, { status: 'error', error: { code: ERROR_CODES.NODE_DIED, message: `the node went away (${reason})` } });
    }
    if (!session.nodeId || this.#sessions.get(session.nodeId) !== session) return;
    this.#sessions.delete(session.nodeId);
    this.#markDead(session.nodeId, reason);
  }

  #markDead(nodeId: string, reason: string): void {
    if (!this.nodes.died(nodeId, reason)) return;
    this.tasks.nodeDied(nodeId);
    // Over a WebSocket the node's reason arrives inside the close's description ("closed by … (1000 normal: node stopping)").
    const stopped = reason.includes('node stopping');
    if (stopped) this.#log.info({ nodeId }, 'node stopped');
    else this.#log.warn({ nodeId, reason }, 'node left the cluster');
    for (const actor of this.actors.liveOn(nodeId)) this.#restartElsewhere(actor, nodeId, stopped);
    // After the actors moved: nodes that learn of the death from this list find them placed anew.
    this.#broadcastPeers();
  }

  /** An actor's node died: place it on another node if its restarts allow, else it is dead. */
  #restartElsewhere(actor: ActorLocation, deadNode: string, stopped: boolean): void {
    const record = this.actors.get(actor.actorId);
    const nodeId = record?.spec && this.actors.canRestart(actor.actorId) ? this.scheduler.place(record.spec.options.placement) : null;
    const target = nodeId === null ? undefined : this.#sessions.get(nodeId);
    if (!record?.spec || record.owner === undefined || !target || nodeId === null) {
      this.actors.died(actor.actorId);
      // A node that stops on purpose (weft stop, shutdown) takes its actors quietly.
      if (stopped) this.#log.info({ actorId: actor.actorId, nodeId: deadNode }, 'actor ended with its node');
      else this.#log.warn({ actorId: actor.actorId, nodeId: deadNode }, 'actor died with its node');
      return;
    }
    const { spec, owner } = record;
    const restarts = this.actors.restarted(actor.actorId, nodeId);
    this.#log.warn({ actorId: actor.actorId, from: deadNode, to: nodeId, restart: restarts }, 'restarting an actor whose node died');
    target.conn.send({ type: 'host-actor', spec, owner, restarts });
  }
}

function unknownMessage(message: never): void {
  throw new Error(`unhandled message ${JSON.stringify((message as { type?: unknown }).type)}`);
}
