/**
 * The node's side of its peers: the messages other nodes send it, each handled by the component
 * that owns it, and what follows when the head's list of nodes changes or the connection to a
 * node is lost (tasks spilled there run again, calls to its actors fail, objects whose only copy
 * it held are rebuilt or asked of their owner).
 */
import { logger, type ObjectLocation, type OutputChunk, type OutputOrigin, type PeerInfo, type PeerMessage, type Result } from '@weft/protocol';
import type { ActorRouter } from './actor-router.ts';
import type { Borrows } from './borrows.ts';
import type { GeneratorStreams } from './generator-streams.ts';
import type { LocalScheduler } from './local-scheduler.ts';
import { ownBytes, ownValue, peerHolder, type ObjectResolver } from './object-resolver.ts';
import type { ObjectEntry, ObjectStore } from './object-store.ts';
import type { PeerNetwork } from './peer-network.ts';

/** What the peer handler needs of its node: the components that own what peers tell, and two calls of the node's. */
export interface PeerServices {
  readonly nodeId: string;
  readonly store: ObjectStore;
  readonly peers: PeerNetwork;
  readonly scheduler: LocalScheduler;
  readonly router: ActorRouter;
  readonly resolver: ObjectResolver;
  readonly borrows: Borrows;
  readonly streams: GeneratorStreams;
  /** Whether a restarted head is still hearing from the nodes again (Membership.recovering). */
  recovering(): boolean;
  /** Cancel a task of this node; `recursive`: and its children (WeftNode.cancelTask). Whether it was still to finish. */
  cancelTask(taskId: string, recursive: boolean): boolean;
  /** Output of tasks this node owns, from the node that ran them (TaskOutput.fromPeer). */
  taskOutput(origin: OutputOrigin, chunks: OutputChunk[]): void;
}

export class PeerHandler {
  #remoteView = { free: 0, cpus: 0, queued: 0 };
  // Under the node's component: searches of the logs for a peer's death look there.
  readonly #log = logger('node');

  constructor(private readonly node: PeerServices) {}

  /** What other nodes can take now, from the head's last peer list (the local scheduler spills by it). */
  remoteView(): { free: number; cpus: number; queued: number } {
    return this.#remoteView;
  }

  /** A message from the node `from`. */
  handle(from: string, message: PeerMessage): void {
    const { scheduler, router, resolver, streams, borrows } = this.node;
    switch (message.type) {
      case 'task-result': {
        const outcome: Result | ObjectLocation = message.result.status === 'remote' ? message.result.location : ownBytes(message.result);
        if (router.isRemoteCall(message.taskId)) router.remoteDone(message.taskId, outcome);
        else scheduler.spilledDone(message.taskId, outcome);
        this.#tellLocation(message.taskId);
        // A value with refs inside was kept by its sender until the refs are borrowed here.
        if ('status' in outcome && outcome.status === 'ok' && outcome.value.refs) this.release(from, message.taskId, true);
        return;
      }
      case 'task-yield':
        return streams.told(from, message);
      case 'borrow-ack':
        return borrows.acked(message.requestId, message.missing);
      case 'subscribe-object':
        resolver.handle(from, message);
        this.#tellLocation(message.objectId);
        return;
      case 'actor-call':
        this.learn(message.call.argRefs, message.argLocations, message.owner);
        return router.handle(from, { ...message, call: { ...message.call, args: ownValue(message.call.args) } });
      case 'kill-actor':
      case 'kill-result':
        return router.handle(from, message);
      case 'cancel-task':
        // Its spec may still be on its way from the head: then it is cancelled as it comes.
        if (!this.node.cancelTask(message.taskId, message.recursive ?? true)) scheduler.cancelAhead(message.taskId);
        return;
      case 'task-output':
        return this.node.taskOutput(message.origin, message.chunks);
      case 'hello':
      case 'welcome':
        return;
      default:
        return resolver.handle(from, message);
    }
  }

  /**
   * Record where objects named in a message from another node are. The arguments of a task or call
   * that `owner` sent here belong to `owner`: one whose bytes are not ready yet (the owner sent
   * the task before its dependencies finished) is asked of the owner when needed, and so is one
   * whose copy dies with its node (the owner rebuilds it).
   */
  learn(argRefs: Array<[number, string]>, locations: ObjectLocation[], owner: string): void {
    const { nodeId: self, peers, store } = this.node;
    const listed = new Set(peers.known().map((peer) => peer.nodeId));
    for (const location of locations) {
      if (location.nodeId === self) continue;
      // A location on a node that is gone (the message was sent before its death was known) is
      // no use: the owner is asked instead.
      if (!listed.has(location.nodeId)) continue;
      const entry = store.ensure(location.objectId);
      // Size 0: only who owns it, which its id tells (ownerOf).
      if (!entry.result && !entry.spilled && location.size > 0) store.setLocation(entry, location);
    }
  }

  /** Let `to` drop the copy it kept for this node; `afterBorrows`: once the refs inside it are borrowed here. */
  release(to: string, objectId: string, afterBorrows: boolean): void {
    const { peers, borrows } = this.node;
    if (afterBorrows) void borrows.settled().then(() => peers.send(to, { type: 'release-object', objectId }));
    else peers.send(to, { type: 'release-object', objectId });
  }

  /** The head listed the nodes of the cluster again (with their free resources and queues). */
  peersChanged(listed: PeerInfo[]): void {
    const { nodeId: self, peers, scheduler } = this.node;
    const alive = new Set(listed.map((node) => node.nodeId));
    const missing = peers.known().filter((peer) => !alive.has(peer.nodeId));
    // A restarted head has not heard from every node yet: keep the missing ones for now.
    const recovering = this.node.recovering();
    const nodes = recovering ? [...listed, ...missing] : listed;
    const gone = recovering ? [] : missing.map((peer) => peer.nodeId);
    peers.setPeers(nodes);
    for (const nodeId of gone) this.nodeDied(nodeId);
    // What other nodes can take now: their free CPUs, plus a queue of one task per CPU (so that
    // they do not idle until the next report).
    let free = 0;
    let total = 0;
    let queued = 0;
    for (const node of nodes) {
      if (node.nodeId === self || node.available === undefined) continue;
      const cpus = node.resources.CPU ?? 0;
      total += cpus;
      queued += node.queued ?? 0;
      free += Math.max(0, node.available.CPU ?? 0) + Math.max(0, cpus - (node.queued ?? 0));
    }
    this.#remoteView = { free, cpus: total, queued };
    scheduler.viewUpdated();
  }

  /**
   * Another node died: tasks this node had spilled there run again; calls to its actors in flight
   * fail and later ones wait for the actor to restart elsewhere; objects whose only copy was there
   * are rebuilt from the task that made them when this node owns it, else fail with ObjectLostError.
   */
  nodeDied(nodeId: string): void {
    const { scheduler, router, borrows, store, resolver } = this.node;
    this.#log.warn({ nodeId }, 'peer node died');
    scheduler.nodeDied(nodeId);
    router.nodeDied(nodeId);
    borrows.nodeDied(nodeId);
    // What it held here (its borrows, results it owned that ran here) and waited for goes.
    store.dropSubscriber(nodeId);
    store.dropClient(peerHolder(nodeId));
    resolver.nodeDied(nodeId, (entry) => scheduler.rebuild(entry.id) || this.#askOwner(entry, nodeId));
  }

  /**
   * The last connection with a listed peer closed (it went silent for the keepalive timeout, or
   * was reset): what it had not answered may be lost. Pulls, subscriptions and borrows are asked
   * again over a new connection, tasks spilled there run again, and calls to its actors in flight
   * fail. If it died, the head says so within the death timeout, and nodeDied does the rest.
   */
  disconnected(nodeId: string, reason: string): void {
    // A peer stopping on purpose flushed what it owed before it closed.
    if (reason.includes('node stopping')) {
      this.#log.info({ nodeId, reason }, 'peer connection closed');
      return;
    }
    this.#log.warn({ nodeId, reason }, 'lost the connection to a peer node; asking again what it had not answered');
    const why = `lost its connection to node ${this.node.nodeId} (${reason})`;
    this.node.scheduler.nodeDied(nodeId, why);
    this.node.router.nodeDied(nodeId, why);
    this.node.resolver.reissue(nodeId);
    this.node.borrows.reissue(nodeId);
  }

  /** No connection to the peer `nodeId` could be opened: taken for dead. */
  unreachable(nodeId: string, reason: string): void {
    this.#log.warn({ nodeId, reason }, 'cannot reach a peer node; what waited on it fails or is rebuilt');
    this.nodeDied(nodeId);
  }

  /**
   * Nodes subscribed to an object whose bytes are ready on another (live) node are told where:
   * the subscriber pulls them from there. (The resolver answers only when the bytes are here.)
   */
  #tellLocation(objectId: string): void {
    const { nodeId: self, peers, store } = this.node;
    const entry = store.get(objectId);
    const location = entry?.location;
    if (!entry || entry.result || !location || !entry.subscribers) return;
    if (location.nodeId !== self && !peers.known().some((peer) => peer.nodeId === location.nodeId)) return;
    for (const nodeId of store.takeSubscribers(entry) ?? []) peers.send(nodeId, { type: 'object-ready', objectId, result: { status: 'remote', location } });
  }

  /**
   * The only copy of an object owned by another node died with `deadNode`: ask the owner for it
   * again (it rebuilds it from lineage, or says it is lost). False when the owner is gone too.
   */
  #askOwner(entry: ObjectEntry, deadNode: string): boolean {
    const { nodeId: self, peers, store, resolver } = this.node;
    const owner = entry.owner;
    if (owner === undefined || owner === deadNode || owner === self) return false;
    if (!peers.known().some((peer) => peer.nodeId === owner)) return false;
    store.setLocation(entry, undefined);
    store.setFetching(entry, false);
    if (entry.waiters.length > 0) resolver.fetch(entry);
    return true;
  }
}
