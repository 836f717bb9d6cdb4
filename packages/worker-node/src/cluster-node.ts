/**
 * A node of a cluster: a WeftNode whose head is reached over a WebSocket (or, beside the head, in
 * process), which listens for drivers and for other nodes, and opens connections to other nodes
 * on first use. Every connection carries the cluster token.
 */
import path from 'node:path';
import {
  POOL_MIN_BYTES, PROTOCOL_VERSION, ReconnectingConnection, SharedMemoryPool, WebSocketConnectError, connectWebSocket,
  setSharedAllocator, listenWebSocket, logger, randomId, validateClientMessage, validateHeadToNode, validatePeerMessage,
  type Accept, type ClientMessage, type Connection, type Hello, type HeadToNode, type NodeToDriver, type NodeToHead,
  type PeerMessage, type ResourceSet, type WebSocketListener,
} from '@weft/protocol';
import { chooseNodeAddresses, interfaceAddresses, routeAddressTo, unbracket, wsUrlOf, type AddressChoice } from './node-address.ts';
import { startNode, type WeftNode } from './node.ts';
import { PeerGoneError, type PeerConnector } from './peer-network.ts';

/** TLS settings of a cluster: what this process serves, and what it trusts when it connects. */
export interface ClusterTls {
  /** Certificate and key (PEM) this node serves wss with. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** CA (or self-signed certificate) to trust when connecting; absent: the system's. */
  ca?: string | Buffer;
}

/** Options of a cluster node. */
export interface ClusterNodeOptions {
  /** ws:// URL of the head, or an in-process connection to it (the node beside the head). */
  head: string | Connection<HeadToNode, NodeToHead>;
  token: string;
  /**
   * Interface to listen on for drivers and peers (standalone nodes).
   * @default the address of this machine's route to the head (see chooseNodeAddresses)
   */
  host?: string;
  /**
   * Address other machines reach this node at (Ray's `--node-ip-address`); never a wildcard, nor
   * loopback when the head is on another machine. @default the listening host, or the route address
   */
  nodeIpAddress?: string;
  /** Port to listen on. @default 0 (any free port) */
  port?: number;
  /** URL others reach this node at when it has no listener of its own (beside the head: the head's URL). */
  address?: string;
  numCpus: number;
  resources?: ResourceSet;
  /** Where job code is unpacked. */
  sessionDir: string;
  tls?: ClusterTls;
  heartbeatMs?: number;
  workerHeapLimitMb?: number;
  /** Bytes the object store keeps in memory before spilling to disk. @default 30% of RAM */
  objectStoreMemory?: number;
}

/** A running cluster node. */
export interface ClusterNode {
  node: WeftNode;
  /** ws:// URL where drivers and peers reach it. */
  address: string;
  stop(): Promise<void>;
}

/**
 * Opens peer connections with the cluster token, saying who we are, to the node asked for only: a
 * fenced node serves its listener as a new node (another id) while the head may still list the old
 * one, and the new node would answer for the old one's objects and actors that it has none of.
 */
export function peerConnector(selfId: string, token: string, tls?: ClusterTls): PeerConnector {
  return async (address, nodeId) => {
    const { conn, welcome } = await connectWebSocket<PeerMessage, PeerMessage>({
      url: address, token, target: `node ${address}`, validate: validatePeerMessage,
      hello: { type: 'hello', version: PROTOCOL_VERSION, role: 'peer', id: selfId },
      ...(tls?.ca !== undefined ? { tls: { ca: tls.ca } } : {}),
    });
    if (welcome.id !== nodeId) {
      conn.close(`node ${nodeId} was asked for, not ${welcome.id}`);
      throw new PeerGoneError(`node ${nodeId} is not at ${address} any more: node ${welcome.id} answers there (the node was fenced and started over, or its port was reused)`);
    }
    return conn;
  };
}

/** Serve drivers and peers that connected to some listener (this node's own, or the head's). */
export function nodeHooks(node: WeftNode): { driver: (hello: Hello, accept: Accept) => void; peer: (hello: Hello, accept: Accept) => void } {
  return {
    driver: (hello, accept) => {
      const received = node.clients.resumeCount(hello.id);
      const conn = accept<ClientMessage, NodeToDriver>({ type: 'welcome', version: PROTOCOL_VERSION, id: node.nodeId,
        ...(received !== undefined ? { received } : {}) });
      node.clients.attach(hello.id, conn, { remote: true });
    },
    peer: (hello, accept) => {
      node.acceptPeer(hello.id, accept<PeerMessage, PeerMessage>({ type: 'welcome', version: PROTOCOL_VERSION, id: node.nodeId }));
    },
  };
}

/** Between attempts to join the head again after a fence: it may still be out of reach. */
const REJOIN_RETRY_MIN_MS = 100;
const REJOIN_RETRY_MAX_MS = 1_000;

/**
 * Start a cluster node. A node that joins a head over the network is fenced when the head declared
 * it dead, or when it has not heard from the head for long enough that the head is about to (see
 * WeftNode's lease): this node then stops the node it ran (its workers, tasks and actors, objects
 * and drivers' connections) and joins again as a new, empty node, under a new id, on the same
 * listener, once the head is reachable. Drivers attached to it reconnect by themselves.
 */
export async function startClusterNode(options: ClusterNodeOptions): Promise<ClusterNode> {
  const log = logger('cluster-node');
  /** The node serving now; undefined while one is being fenced and replaced. */
  let current: WeftNode | undefined;
  let listener: WebSocketListener | undefined;
  let address = options.address ?? '';
  if (typeof options.head === 'string') {
    const { listenHost, advertiseHost } = await nodeAddresses(options.head, options);
    const { cert, key } = options.tls ?? {};
    listener = await listenWebSocket({
      host: listenHost, port: options.port ?? 0, token: options.token,
      ...(cert !== undefined && key !== undefined ? { tls: { cert, key } } : {}),
      validateFor: (role) => {
        if (role === 'node') throw new Error('nodes register with the head, not with another node');
        return role === 'driver' ? validateClientMessage : validatePeerMessage;
      },
      onConnection: (hello, accept) => {
        if (!current) throw new Error('node is starting');
        const hooks = nodeHooks(current);
        (hello.role === 'driver' ? hooks.driver : hooks.peer)(hello, accept);
      },
    });
    address = wsUrlOf(cert !== undefined && key !== undefined ? 'wss' : 'ws', advertiseHost, listener.port);
  }
  let stopped = false;
  let rejoining: Promise<void> | undefined;
  const fenced = (reason: string): void => {
    if (stopped || rejoining) return;
    rejoining = (async () => {
      const old = current;
      current = undefined;
      await old?.stop(`node fenced: ${reason}`);
      for (let delay = REJOIN_RETRY_MIN_MS; !stopped; delay = Math.min(delay * 2, REJOIN_RETRY_MAX_MS)) {
        try {
          current = await incarnate(options, address, fenced);
          log.warn({ old: old?.nodeId, nodeId: current.nodeId, address }, 'joined the cluster again as a new node after being fenced');
          return;
        } catch (error) {
          log.debug({ reason: error instanceof Error ? error.message : String(error), retryInMs: delay }, 'cannot join the head again yet');
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    })().finally(() => { rejoining = undefined; });
  };
  try {
    current = await incarnate(options, address, typeof options.head === 'string' ? fenced : undefined);
  } catch (error) {
    await listener?.close();
    throw error;
  }
  // Objects pulled from other nodes land in shared memory: take it from a pool of pages
  // touched ahead, so that a large pull does not also pay for faulting its buffer in.
  const pool = new SharedMemoryPool();
  setSharedAllocator((size) => (size >= POOL_MIN_BYTES ? pool.take(size) : new Uint8Array(new SharedArrayBuffer(size))));
  log.info({ nodeId: current.nodeId, address }, 'node ready');
  const first = current;
  return {
    get node() { return current ?? first; },
    address,
    stop: async () => {
      stopped = true;
      await rejoining;
      await current?.stop();
      await listener?.close();
      setSharedAllocator(undefined);
      await pool.close();
    },
  };
}

/** One node, under a new id: connected to the head, started, registered. */
async function incarnate(options: ClusterNodeOptions, address: string, onFenced: ((reason: string) => void) | undefined): Promise<WeftNode> {
  const nodeId = randomId('node');
  let node: WeftNode | undefined;
  const head = typeof options.head === 'string' ? await connectHead(options.head, options, nodeId, () => node) : options.head;
  try {
    node = await startNode({
      nodeId, numCpus: options.numCpus, resources: options.resources ?? {}, head, address,
      workingDir: path.join(options.sessionDir, 'jobs'), sessionDir: options.sessionDir,
      connectPeer: peerConnector(nodeId, options.token, options.tls),
      ...(onFenced !== undefined ? { onFenced } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.workerHeapLimitMb !== undefined ? { workerHeapLimitMb: options.workerHeapLimitMb } : {}),
      ...(options.objectStoreMemory !== undefined ? { objectStoreMemory: options.objectStoreMemory } : {}),
    });
  } catch (error) {
    head.close('node failed to start');
    throw error;
  }
  return node;
}

/**
 * Where a node joining the head at `headUrl` listens and what it advertises (see
 * chooseNodeAddresses); throws NodeAddressError when that would leave it unreachable.
 */
export async function nodeAddresses(headUrl: string, options: Pick<ClusterNodeOptions, 'host' | 'nodeIpAddress'>): Promise<AddressChoice> {
  const url = new URL(headUrl);
  const headHost = unbracket(url.hostname);
  const port = Number(url.port === '' ? (url.protocol === 'wss:' ? 443 : 80) : url.port);
  return chooseNodeAddresses({
    host: options.host, nodeIpAddress: options.nodeIpAddress, headHost,
    routeAddress: await routeAddressTo(headHost, port), localAddresses: interfaceAddresses(),
  });
}

/**
 * Connect to the head, and again (with backoff) whenever the connection drops. An attempt that is
 * refused (the head's machine answers, but no head listens) tells the node that the head is down
 * rather than cut off from it: a restarted head knows nothing of this node, so nothing restarts
 * its actors meanwhile, and the node keeps them.
 */
async function connectHead(url: string, options: ClusterNodeOptions, nodeId: string, node: () => WeftNode | undefined): Promise<Connection<HeadToNode, NodeToHead>> {
  const open = async (): Promise<Connection<HeadToNode, NodeToHead>> => {
    try {
      return (await connectWebSocket<HeadToNode, NodeToHead>({
        url, token: options.token, validate: validateHeadToNode,
        hello: { type: 'hello', version: PROTOCOL_VERSION, role: 'node', id: nodeId },
        ...(options.tls?.ca !== undefined ? { tls: { ca: options.tls.ca } } : {}),
      })).conn;
    } catch (error) {
      if (isRefused(error)) node()?.head.refused();
      throw error;
    }
  };
  return new ReconnectingConnection(await open(), async () => ({ conn: await open() }), {
    disconnected: (reason) => node()?.head.disconnected(reason),
    reconnected: () => node()?.head.reconnected(),
  });
}

/** Whether a connect attempt found nothing listening (ECONNREFUSED). */
function isRefused(error: unknown): boolean {
  return error instanceof WebSocketConnectError && error.errno === 'ECONNREFUSED';
}

/** What a head server offers the node that runs beside it (see @weft/scheduler's startHeadServer). */
export interface HeadServerLike {
  head: { connectLocal(): Connection<HeadToNode, NodeToHead> };
  setLocalNode(hooks: ReturnType<typeof nodeHooks>): void;
}

/**
 * Start the node that runs in the head's process: it reaches the head in process, and drivers and
 * peers reach it through the head's port (at `address`, the head's URL as others see it).
 */
export async function startNodeBesideHead(server: HeadServerLike, options: Omit<ClusterNodeOptions, 'head' | 'host' | 'port'> & { address: string }): Promise<ClusterNode> {
  const beside = await startClusterNode({ ...options, head: server.head.connectLocal() });
  server.setLocalNode(nodeHooks(beside.node));
  return beside;
}
