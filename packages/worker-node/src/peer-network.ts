/**
 * Connections to the other nodes of the cluster, one per pair, opened on first use (or accepted
 * from the other side). Messages to a node whose connection is still opening wait in order.
 * In the embedded cluster there are no peers and nothing is ever sent.
 */
import { logger, type Connection, type PeerInfo, type PeerMessage } from '@weft/core';

/** Attempts to open a connection to a peer before giving up (about 10 s with the backoff). */
const OPEN_ATTEMPTS = 8;
const OPEN_RETRY_MIN_MS = 100;
const OPEN_RETRY_MAX_MS = 2_000;

/** Opens a connection to a peer's address. */
export type PeerConnector = (address: string) => Promise<Connection<PeerMessage, PeerMessage>>;

interface Peer {
  info: PeerInfo | undefined;
  conn: Connection<PeerMessage, PeerMessage> | undefined;
  opening: Promise<void> | undefined;
  queue: PeerMessage[];
}

export class PeerNetwork {
  readonly #peers = new Map<string, Peer>();
  readonly #log = logger('peer-network');

  constructor(
    private readonly selfId: string,
    private readonly connector: PeerConnector | undefined,
    private readonly onMessage: (from: string, message: PeerMessage) => void,
    private readonly onLost: (nodeId: string, reason: string) => void,
  ) {}

  /** The nodes of the cluster, as the head tells. Connections to nodes that left are closed. */
  setPeers(nodes: PeerInfo[]): void {
    const ids = new Set(nodes.map((node) => node.nodeId));
    for (const node of nodes) if (node.nodeId !== this.selfId) this.#peer(node.nodeId).info = node;
    for (const [nodeId, peer] of this.#peers) {
      if (!ids.has(nodeId)) {
        peer.conn?.close('node left the cluster');
        this.#peers.delete(nodeId);
      }
    }
  }

  /** The nodes other than this one that the head listed. */
  known(): PeerInfo[] {
    return [...this.#peers.values()].map((peer) => peer.info).filter((info): info is PeerInfo => info !== undefined);
  }

  /** A connection another node opened to this one. */
  accept(nodeId: string, conn: Connection<PeerMessage, PeerMessage>): void {
    const peer = this.#peer(nodeId);
    if (!peer.conn) this.#use(nodeId, peer, conn);
    else this.#listen(nodeId, conn); // both sides connected at once: keep both, send on the first
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

  close(): void {
    for (const peer of this.#peers.values()) peer.conn?.close('node stopping');
    this.#peers.clear();
  }

  #peer(nodeId: string): Peer {
    let peer = this.#peers.get(nodeId);
    if (!peer) {
      peer = { info: undefined, conn: undefined, opening: undefined, queue: [] };
      this.#peers.set(nodeId, peer);
    }
    return peer;
  }

  /**
   * Open a connection to a peer, retrying with backoff while the head still lists it (a peer may
   * be briefly unreachable); what was sent meanwhile waits. Given up after OPEN_ATTEMPTS, or when
   * the peer leaves the list (the node then handles its death).
   */
  async #open(nodeId: string, peer: Peer): Promise<void> {
    let delay = OPEN_RETRY_MIN_MS;
    let reason = `node ${nodeId} is not a known peer`;
    try {
      for (let attempt = 0; attempt < OPEN_ATTEMPTS && this.#peers.get(nodeId) === peer; attempt++) {
        if (this.connector && peer.info) {
          try {
            this.#use(nodeId, peer, await this.connector(peer.info.address));
            return;
          } catch (error) {
            reason = error instanceof Error ? error.message : String(error);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, OPEN_RETRY_MAX_MS);
      }
      this.#log.warn({ nodeId, reason }, 'cannot reach peer node');
      peer.queue = [];
      this.onLost(nodeId, reason);
    } finally {
      peer.opening = undefined;
    }
  }

  #use(nodeId: string, peer: Peer, conn: Connection<PeerMessage, PeerMessage>): void {
    peer.conn = conn;
    this.#listen(nodeId, conn);
    conn.onClose((reason) => {
      if (peer.conn === conn) peer.conn = undefined;
      this.onLost(nodeId, reason);
    });
    const queued = peer.queue;
    peer.queue = [];
    for (const message of queued) conn.send(message);
  }

  #listen(nodeId: string, conn: Connection<PeerMessage, PeerMessage>): void {
    conn.onMessage((message) => this.onMessage(nodeId, message));
  }
}
