/**
 * The head: owns cluster state (nodes and their resources, actors and their names, jobs and
 * their packages) and the global scheduler. It speaks NodeToHead/HeadToNode messages with each
 * node over a Connection: an in-process one for the embedded cluster and for the node that
 * runs beside the head, a WebSocket for the others. It is never on the path of a task that runs
 * where it was submitted.
 */
import {
  ERROR_CODES, inProcessPair, logger,
  type ActorLocation, type Connection, type HeadReply, type HeadToNode, type NodeToHead, type ObjectLocation,
} from '@weft/core';
import { ActorRegistry } from './actor-registry.ts';
import { GlobalScheduler } from './global-scheduler.ts';
import { NodeRegistry } from './node-registry.ts';

/** A node's connection as the head holds it. */
interface NodeSession {
  nodeId: string | undefined;
  readonly conn: Connection<NodeToHead, HeadToNode>;
}

/** Describe a resource map for messages. */
function describe(resources: Record<string, number>): string {
  const parts = Object.entries(resources).map(([name, amount]) => `${amount} ${name}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}

export class Head {
  readonly nodes = new NodeRegistry();
  readonly scheduler = new GlobalScheduler(this.nodes);
  readonly actors = new ActorRegistry();
  readonly packages = new Map<string, Uint8Array>();
  readonly jobs = new Map<string, { state: 'started' | 'finished'; nodeId: string; since: number }>();
  readonly #sessions = new Map<string, NodeSession>();
  /** What the head needs to restart an actor whose node died: its spec and restarts so far. */
  readonly #actorSpecs = new Map<string, { spec: import('@weft/core').ActorSpec; owner: string; restarts: number }>();
  readonly #pending = new Map<number, (result: HeadReply) => void>();
  #nextRequestId = 1;
  readonly #log = logger('head');

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
  async queryNodes(what: 'objects' | 'actors' | 'tasks'): Promise<Map<string, unknown>> {
    const answers = new Map<string, unknown>();
    await Promise.all([...this.#sessions.values()].map(async (session) => {
      if (!session.nodeId) return;
      const requestId = this.#nextRequestId++;
      const reply = new Promise<HeadReply>((resolve) => this.#pending.set(requestId, resolve));
      session.conn.send({ type: 'query', requestId, what });
      const timeout = new Promise<HeadReply>((resolve) => setTimeout(() => resolve({ status: 'error', error: { code: ERROR_CODES.SYSTEM, message: 'no answer' } }), 2000).unref());
      const result = await Promise.race([reply, timeout]);
      this.#pending.delete(requestId);
      if (result.status === 'ok') answers.set(session.nodeId, result.value);
    }));
    return answers;
  }

  /** Declare nodes dead that missed heartbeats for `timeoutMs`. */
  checkHeartbeats(timeoutMs: number): void {
    const cutoff = Date.now() - timeoutMs;
    for (const node of this.nodes.all()) {
      if (node.alive && node.lastHeartbeat < cutoff) {
        const session = this.#sessions.get(node.nodeId);
        this.#log.warn({ nodeId: node.nodeId, silentMs: Date.now() - node.lastHeartbeat }, 'node missed its heartbeats; declaring it dead');
        if (session) session.conn.close('missed heartbeats');
        else this.#markDead(node.nodeId, 'missed heartbeats');
      }
    }
  }

  #handle(session: NodeSession, message: NodeToHead): void {
    switch (message.type) {
      case 'hello':
        return;
      case 'register-node': {
        session.nodeId = message.node.nodeId;
        this.#sessions.set(message.node.nodeId, session);
        this.nodes.register(message.node);
        this.#log.info({ nodeId: message.node.nodeId, address: message.node.address, resources: message.node.resources }, 'node registered');
        return this.#broadcastPeers();
      }
      case 'heartbeat':
        if (session.nodeId) this.nodes.heartbeat(session.nodeId, message.available, message.stats);
        return;
      case 'spill-task':
        return this.#placeTask(session, message.task, message.owner, message.argLocations);
      case 'place-actor': {
        const name = message.spec.options.name;
        if (name !== undefined && !this.actors.claim(name, message.spec.actorId)) {
          return this.#reply(session, message.requestId, { status: 'error', error: { code: ERROR_CODES.ACTOR_DIED,
            message: `the name '${name}' is taken by a live actor: names are unique while their actor lives (use getActor('${name}') to reach it)` } });
        }
        const nodeId = this.scheduler.place(message.spec.options.placement);
        if (!nodeId) {
          if (name !== undefined) this.actors.release(name, message.spec.actorId);
          return this.#reply(session, message.requestId, { status: 'error', error: { code: ERROR_CODES.TASK_UNSCHEDULABLE,
            message: `it needs ${describe(message.spec.options.placement)} to be placed but the whole cluster has ${describe(this.nodes.totals())}` } });
        }
        this.actors.update({ actorId: message.spec.actorId, className: message.spec.cls.name, nodeId, state: 'pending',
          ...(message.spec.options.name !== undefined ? { name: message.spec.options.name } : {}) });
        this.#actorSpecs.set(message.spec.actorId, { spec: message.spec, owner: message.owner, restarts: 0 });
        this.#sessions.get(nodeId)?.conn.send({ type: 'host-actor', spec: message.spec, owner: message.owner });
        return this.#reply(session, message.requestId, { status: 'ok', value: nodeId });
      }
      case 'actor-state':
        if (message.state === 'dead') this.#actorSpecs.delete(message.actorId);
        // A node reporting its actors to this (restarted) head: what restarting them elsewhere needs.
        else if (message.spec && message.owner !== undefined && !this.#actorSpecs.has(message.actorId)) {
          this.#actorSpecs.set(message.actorId, { spec: message.spec, owner: message.owner, restarts: message.restarts ?? 0 });
        }
        return this.actors.update({ actorId: message.actorId, className: message.className, nodeId: message.nodeId, state: message.state,
          ...(message.name !== undefined ? { name: message.name } : {}) });
      case 'claim-actor-name':
        return this.#reply(session, message.requestId, { status: 'ok', value: this.actors.claim(message.name, message.actorId) });
      case 'release-actor-name':
        return this.actors.release(message.name, message.actorId);
      case 'find-actor':
        return this.#reply(session, message.requestId, { status: 'ok', value: this.actors.find(message) });
      case 'put-package':
        this.packages.set(message.jobId, message.data);
        return this.#reply(session, message.requestId, { status: 'ok', value: true });
      case 'get-package': {
        const data = this.packages.get(message.jobId);
        return this.#reply(session, message.requestId, data
          ? { status: 'ok', value: data }
          : { status: 'error', error: { code: ERROR_CODES.NOT_FOUND, message: `no working directory was uploaded for job ${message.jobId}` } });
      }
      case 'job-event':
        this.jobs.set(message.jobId, { state: message.state, nodeId: message.nodeId, since: Date.now() });
        if (message.state === 'finished') {
          this.packages.delete(message.jobId);
          // Its tasks and (undetached) actors go, on every node.
          for (const other of this.#sessions.values()) other.conn.send({ type: 'job-finished', jobId: message.jobId });
        }
        return;
      case 'reply': {
        const resolve = this.#pending.get(message.requestId);
        this.#pending.delete(message.requestId);
        resolve?.(message.result);
        return;
      }
      default:
        return unknownMessage(message);
    }
  }

  #placeTask(session: NodeSession, task: import('@weft/core').TaskSpec, owner: string, argLocations: ObjectLocation[]): void {
    const bytesOnNode = new Map<string, number>();
    for (const location of argLocations) bytesOnNode.set(location.nodeId, (bytesOnNode.get(location.nodeId) ?? 0) + location.size);
    const nodeId = this.scheduler.place(task.resources, { bytesOnNode, ...(session.nodeId ? { avoid: session.nodeId } : {}) });
    const target = nodeId === null ? undefined : this.#sessions.get(nodeId);
    this.#log.debug({ taskId: task.taskId, from: session.nodeId, to: nodeId }, 'placed a spilled task');
    if (!target) {
      session.conn.send({ type: 'spill-failed', taskId: task.taskId, error: { code: ERROR_CODES.TASK_UNSCHEDULABLE,
        message: `task ${task.name} needs ${describe(task.resources)} but the whole cluster has ${describe(this.nodes.totals())}; `
          + 'ask for less (options({ numCpus })) or add a node that has it' } });
      return;
    }
    target.conn.send({ type: 'run-task', task, owner, argLocations });
    session.conn.send({ type: 'task-placed', taskId: task.taskId, nodeId: nodeId as string });
  }

  #reply(session: NodeSession, requestId: number, result: HeadReply): void {
    session.conn.send({ type: 'reply', requestId, result });
  }

  #broadcastPeers(): void {
    const nodes = this.nodes.peers();
    for (const session of this.#sessions.values()) session.conn.send({ type: 'peers', nodes });
  }

  /** Tell every node the others' free resources (they spill where it helps). */
  shareView(): void {
    if (this.#sessions.size > 1) this.#broadcastPeers();
  }

  #nodeGone(session: NodeSession, reason: string): void {
    if (!session.nodeId || this.#sessions.get(session.nodeId) !== session) return;
    this.#sessions.delete(session.nodeId);
    this.#markDead(session.nodeId, reason);
  }

  #markDead(nodeId: string, reason: string): void {
    const node = this.nodes.get(nodeId);
    if (!node || !node.alive) return;
    node.alive = false;
    if (reason === 'node stopping') this.#log.info({ nodeId }, 'node stopped');
    else this.#log.warn({ nodeId, reason }, 'node left the cluster');
    for (const actor of this.actors.onNode(nodeId)) {
      if (actor.state !== 'dead') this.#restartElsewhere(actor, nodeId, reason === 'node stopping');
    }
    // After the actors moved: nodes that learn of the death from this list find them placed anew.
    this.#broadcastPeers();
  }

  /** An actor's node died: place it on another node if its restarts allow, else it is dead. */
  #restartElsewhere(actor: ActorLocation, deadNode: string, stopped: boolean): void {
    const record = this.#actorSpecs.get(actor.actorId);
    const maxRestarts = record?.spec.options.maxRestarts ?? 0;
    const nodeId = record && (maxRestarts < 0 || record.restarts < maxRestarts) ? this.scheduler.place(record.spec.options.placement) : null;
    const target = nodeId === null ? undefined : this.#sessions.get(nodeId);
    if (!record || !target || nodeId === null) {
      this.#actorSpecs.delete(actor.actorId);
      this.actors.update({ ...actor, state: 'dead' });
      // A node that stops on purpose (weft stop, shutdown) takes its actors quietly.
      if (stopped) this.#log.info({ actorId: actor.actorId, nodeId: deadNode }, 'actor ended with its node');
      else this.#log.warn({ actorId: actor.actorId, nodeId: deadNode }, 'actor died with its node');
      return;
    }
    record.restarts += 1;
    this.actors.update({ ...actor, nodeId, state: 'restarting' });
    this.#log.warn({ actorId: actor.actorId, from: deadNode, to: nodeId, restart: record.restarts }, 'restarting an actor whose node died');
    target.conn.send({ type: 'host-actor', spec: record.spec, owner: record.owner, restarts: record.restarts });
  }
}

function unknownMessage(message: never): void {
  throw new Error(`unhandled message ${JSON.stringify((message as { type?: unknown }).type)}`);
}

