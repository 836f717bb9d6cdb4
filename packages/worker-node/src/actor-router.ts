/**
 * Routes this node's clients' actor operations to wherever each actor lives. Creating an actor
 * claims its name and asks the head to place it; calls then go straight to the actor's node
 * (never through the head), in submission order: calls made before the actor's node is known
 * wait here, in order. A call's result returns to this node, which owns it.
 */
import {
  ERROR_CODES, SystemError, argumentObjectIds, toErrorPayload, type ErrorPayload, type ActorCallSpec, type ActorInfo,
  type ActorSpec, type ObjectLocation, type PeerMessage, type Result,
} from '@weft/protocol';
import type { ActorManager } from './actor-manager.ts';
import type { HeadConnection } from './head-connection.ts';
import type { ObjectStore } from './object-store.ts';
import type { PeerNetwork } from './peer-network.ts';

interface Route {
  nodeId: string | undefined;
  failed: ErrorPayload | undefined;
  readonly queue: Array<{ call: ActorCallSpec; owner: string }>;
}

/**
 * Routes kept at most. The oldest idle ones go first; a call on an actor whose route went asks
 * the head where it lives again (so a node that saw a million actors come and go holds a bounded map).
 */
export const MAX_ROUTES = 100_000;

export class ActorRouter {
  readonly #routes = new Map<string, Route>();
  /** Calls sent to other nodes: where, and the ids pinned for their arguments. */
  readonly #remote = new Map<string, { nodeId: string; pinned: string[]; name: string }>();

  constructor(
    private readonly selfId: string,
    private readonly head: HeadConnection,
    private readonly manager: ActorManager,
    private readonly peers: PeerNetwork,
    private readonly store: ObjectStore,
    private readonly argLocations: (argRefs: Array<[number, string]>) => ObjectLocation[],
  ) {}

  /** Create an actor for a client of this node. */
  create(spec: ActorSpec): void {
    const route: Route = { nodeId: undefined, failed: undefined, queue: [] };
    this.#remember(spec.actorId, route);
    void this.#place(spec, route);
  }

  async #place(spec: ActorSpec, route: Route): Promise<void> {
    try {
      // The head claims the name and places the actor in one step; a getActor sent after this
      // (on the same ordered connection) finds it.
      route.nodeId = await this.head.placeActor(spec, this.selfId);
    } catch (error) {
      const payload = toErrorPayload(error);
      route.failed = { code: ERROR_CODES.ACTOR_DIED, message: `actor ${spec.cls.name} (${spec.actorId}) could not be created: ${payload.message}` };
    }
    this.#flush(route);
  }

  /** A call from a client of this node. */
  submit(call: ActorCallSpec, owner: string): void {
    // The client may get the result before the actor's node is known: the entry exists now.
    this.store.addHolder(call.callId, owner);
    let route = this.#routes.get(call.actorId);
    if (!route) {
      // A handle that came from elsewhere: ask the head where its actor is.
      const created: Route = { nodeId: undefined, failed: undefined, queue: [] };
      this.#remember(call.actorId, created);
      route = created;
      if (this.manager.has(call.actorId)) created.nodeId = this.selfId;
      else void this.#locate(call.actorId, created);
    }
    if (route.nodeId === undefined && !route.failed) {
      route.queue.push({ call, owner });
      return;
    }
    this.#send(route, call, owner);
  }

  /** Keep a route (as the newest), dropping the oldest idle ones past MAX_ROUTES. */
  #remember(actorId: string, route: Route): void {
    this.#routes.delete(actorId);
    this.#routes.set(actorId, route);
    if (this.#routes.size <= MAX_ROUTES) return;
    for (const [id, old] of this.#routes) {
      if (this.#routes.size <= MAX_ROUTES) break;
      if (old.queue.length === 0 && (old.nodeId !== undefined || old.failed)) this.#routes.delete(id);
    }
  }

  /** How many routes this node keeps. */
  get routes(): number {
    return this.#routes.size;
  }

  async #locate(actorId: string, route: Route): Promise<void> {
    try {
      const location = await this.head.findActor({ actorId });
      if (!location) throw new SystemError(`actor ${actorId} is not known to the cluster`);
      if (location.state === 'dead') {
        // Final: later calls fail at once.
        route.failed = { code: ERROR_CODES.ACTOR_DIED, message: `actor ${location.className} (${actorId}) is dead` };
      } else {
        route.nodeId = location.nodeId;
      }
    } catch (error) {
      // The head could not be asked, or does not know the actor (a restarted head may not have
      // heard from its node yet): the calls waiting fail, and a later call asks again.
      route.failed = { code: ERROR_CODES.ACTOR_DIED, message: toErrorPayload(error).message };
      if (this.#routes.get(actorId) === route) this.#routes.delete(actorId);
    }
    this.#flush(route);
  }

  #flush(route: Route): void {
    const queued = route.queue.splice(0);
    for (const { call, owner } of queued) this.#send(route, call, owner);
  }

  #send(route: Route, call: ActorCallSpec, owner: string): void {
    if (route.failed || route.nodeId === undefined) {
      this.store.addHolder(call.callId, owner);
      this.store.complete(call.callId, { status: 'error', error: route.failed ?? { code: ERROR_CODES.ACTOR_DIED, message: `${call.name}: actor unknown` } });
      return;
    }
    if (route.nodeId === this.selfId) {
      this.manager.submit(call, owner);
      return;
    }
    this.store.addHolder(call.callId, owner);
    const pinned = argumentObjectIds(call);
    this.store.pin(pinned);
    this.#remote.set(call.callId, { nodeId: route.nodeId, pinned, name: call.name });
    this.peers.send(route.nodeId, { type: 'actor-call', call, owner: this.selfId, argLocations: this.argLocations(call.argRefs) });
  }

  /** Whether `callId` is a call this node sent to another node. */
  isRemoteCall(callId: string): boolean {
    return this.#remote.has(callId);
  }

  /** The result of a call sent to another node. */
  remoteDone(callId: string, outcome: Result | ObjectLocation): void {
    const remote = this.#remote.get(callId);
    if (!remote) return;
    this.#remote.delete(callId);
    if ('status' in outcome) this.store.complete(callId, outcome);
    else this.store.located(this.store.ensure(callId), outcome);
    this.store.unpin(remote.pinned);
  }

  /**
   * A node died (or `why`: the connection to it was lost): calls in flight on its actors fail (the actor may restart elsewhere, but what a
   * call did there is lost), and later calls wait until the head says where the actor lives now.
   */
  nodeDied(nodeId: string, why = 'died'): void {
    for (const [callId, remote] of [...this.#remote]) {
      if (remote.nodeId !== nodeId) continue;
      this.remoteDone(callId, { status: 'error', error: { code: ERROR_CODES.ACTOR_DIED,
        message: `${remote.name} failed: node ${nodeId}, which hosted the actor, ${why} while the call ran` } });
    }
    for (const [actorId, route] of this.#routes) {
      if (route.nodeId !== nodeId) continue;
      route.nodeId = undefined;
      void this.#locate(actorId, route);
    }
  }

  /**
   * Kill an actor wherever it lives; false when it was dead already or unknown. The head does it:
   * it records the actor dead (so that no restart brings it back, even if its node is dying) and
   * has its node stop it.
   */
  async kill(actorId: string): Promise<boolean> {
    return this.head.killActor(actorId);
  }

  /** The live actor named `name`, anywhere in the cluster. */
  async find(name: string): Promise<ActorInfo | null> {
    const location = await this.head.findActor({ name });
    if (!location || location.state === 'dead') return null;
    this.#remember(location.actorId, { nodeId: location.nodeId, failed: undefined, queue: [] });
    return { actorId: location.actorId, className: location.className, state: location.state, ...(location.name !== undefined ? { name: location.name } : {}) };
  }

  /** Actor messages from other nodes. */
  handle(from: string, message: PeerMessage): void {
    switch (message.type) {
      case 'actor-call':
        return this.manager.submit(message.call, `peer:${from}`, message.owner);
      case 'kill-actor':
        // Deprecated (kills go through the head), still answered.
        this.peers.send(from, { type: 'kill-result', requestId: message.requestId, killed: this.manager.kill(message.actorId) });
        return;
      default:
        return;
    }
  }
}
