/**
 * Connections to the other nodes of the cluster, one per pair, opened on first use (or accepted
 * from the other side; when both sides connect at once both stay open, and messages go on the
 * first). Messages to a node whose connection is still opening wait in order. When the last
 * connection with a listed node closes, the owner is told (what that node had not answered may
 * be lost), and when a connection cannot be opened for OPEN_ATTEMPTS tries (or at once, when
 * another node answers at its address), the owner is told it is unreachable and what waited to be
 * sent is dropped. In the embedded cluster there are no peers and nothing is ever sent.
 */
import { logger, type Connection, type PeerInfo, type PeerMessage } from '@weft/protocol';

/** Attempts to open a connection to a peer before giving up (about 10 s with the backoff). */
const OPEN_ATTEMPTS = 8;
const OPEN_RETRY_MIN_MS = 100;
const OPEN_RETRY_MAX_MS = 2_000;

/**
 * Opens a connection to the peer `nodeId` at its address. Throws {@link PeerGoneError} when
 * another node answers there.
 */
export type PeerConnector = (address: string, nodeId: string) => Promise<Connection<PeerMessage, PeerMessage>>;

/**
 * Another node answers at a peer's address: the peer is gone for good (it was fenced and serves
 * its listener as a new node now, or its port went to another node), so retrying cannot reach it.
 */
export class PeerGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerGoneError';
  }
}

/** What the network tells its owner. */
export interface PeerEvents {
  message(from: string, message: PeerMessage): void;
  /** The last open connection with `nodeId` closed (the node is still listed). */
  disconnected(nodeId: string, reason: string): void;
  /** No connection to `nodeId` could be opened; what was queued for it is dropped. */
  unreachable(nodeId: string, reason: string): void;
}

interface Peer {
  info: PeerInfo | undefined;
  /** The connection messages go on (the first one open). */
  conn: Connection<PeerMessage, PeerMessage> | undefined;
  /** Every open connection with the node (two when both sides connected at once). */
  readonly open: Set<Connection<PeerMessage, PeerMessage>>;
  opening: Promise<void> | undefined;
  queue: PeerMessage[];
}

export class PeerNetwork {
  readonly #peers = new Map<string, Peer>();
  readonly #log = logger('peer-network');

  constructor(
    private readonly selfId: string,
    private readonly connector: PeerConnector | undefined,
    private readonly events: PeerEvents,
  ) {}

  /** The nodes of the cluster, as the head tells. Connections to nodes that left are closed. */
  setPeers(nodes: PeerInfo[]): void {
    const ids = new Set(nodes.map((node) => node.nodeId));
    for (const node of nodes) if (node.nodeId !== this.selfId) this.#peer(node.nodeId).info = node;
    for (const [nodeId, peer] of this.#peers) {
      // A node not listed yet (it connected, or was named in a message, before the head's list
      // that has it arrived) stays: the list catches up, or opening a connection to it gives up
      // and reports it unreachable. A listed node that leaves goes, and is handled as dead by the
      // owner, from the same list.
      if (ids.has(nodeId) || peer.info === undefined) continue;
      this.#peers.delete(nodeId);
      for (const conn of peer.open) conn.close('node left the cluster');
    }
  }

  /** Whether the head listed `nodeId` (a live node other than this one). */
  isListed(nodeId: string): boolean {
    return this.#peers.get(nodeId)?.info !== undefined;
  }

  /** The nodes other than this one that the head listed. */
  known(): PeerInfo[] {
    return [...this.#peers.values()].map((peer) => peer.info).filter((info): info is PeerInfo => info !== undefined);
  }

  /** A connection another node opened to this one. */
  accept(nodeId: string, conn: Connection<PeerMessage, PeerMessage>): void {
    this.#use(nodeId, this.#peer(nodeId), conn);
  }

  send(nodeId: string, message: PeerMessage): void {
    const peer = this.#peer(nodeId);
    if (peer.conn) {
      peer.conn.send(message);
      return;
    }
    peer.queue.push(message);
    if (!peer.opening) peer.opening = this.#open(nodeId, peer);
  }

  close(reason = 'node stopping'): void {
    const peers = [...this.#peers.values()];
    this.#peers.clear();
    for (const peer of peers) for (const conn of peer.open) conn.close(reason);
  }

  #peer(nodeId: string): Peer {
    let peer = this.#peers.get(nodeId);
    if (!peer) {
      peer = { info: undefined, conn: undefined, open: new Set(), opening: undefined, queue: [] };
      this.#peers.set(nodeId, peer);
    }
    return peer;
  }

  /**
   * Open a connection to a peer, retrying with backoff while the head still lists it (a peer may
   * be briefly unreachable); what was sent meanwhile waits. Given up after OPEN_ATTEMPTS, at once
   * when another node answers at its address, or when the peer leaves the list (the node then
   * handles its death).
   */
  async #open(nodeId: string, peer: Peer): Promise<void> {
    let delay = OPEN_RETRY_MIN_MS;
    let reason = `node ${nodeId} is not a known peer`;
    try {
      // The peer may connect to this node meanwhile: its connection carries what waited, and
      // dialling stops (the peer is reachable; reporting it unreachable would have it taken for dead).
      for (let attempt = 0; attempt < OPEN_ATTEMPTS && this.#peers.get(nodeId) === peer && !peer.conn; attempt++) {
        if (this.connector && peer.info) {
          try {
            this.#use(nodeId, peer, await this.connector(peer.info.address, nodeId));
            return;
          } catch (error) {
            reason = error instanceof Error ? error.message : String(error);
            if (error instanceof PeerGoneError) break;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, OPEN_RETRY_MAX_MS);
      }
      if (this.#peers.get(nodeId) !== peer || peer.conn) return;
      this.#log.warn({ nodeId, reason, dropped: peer.queue.length }, 'cannot reach peer node');
      peer.queue = [];
      // A node the head never listed is forgotten (its connections, if any, closed).
      if (peer.info === undefined && peer.open.size === 0) this.#peers.delete(nodeId);
      this.events.unreachable(nodeId, reason);
    } finally {
      peer.opening = undefined;
    }
  }

  /** Serve a new open connection with `nodeId`; it carries what is sent when it is the first. */
  #use(nodeId: string, peer: Peer, conn: Connection<PeerMessage, PeerMessage>): void {
    peer.open.add(conn);
    conn.onMessage((message) => this.events.message(nodeId, message));
    conn.onClose((reason) => {
      peer.open.delete(conn);
      if (peer.conn === conn) peer.conn = peer.open.values().next().value;
      // A node that left the list, or this network closing, is not news.
      if (peer.open.size > 0 || this.#peers.get(nodeId) !== peer) return;
      this.events.disconnected(nodeId, reason);
    });
    if (peer.conn) return;
    peer.conn = conn;
    const queued = peer.queue;
    peer.queue = [];
    for (const message of queued) conn.send(message);
  }
}
