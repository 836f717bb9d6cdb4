/**
 * The head's server: one port for WebSockets (nodes register, and — through the hooks — drivers
 * and peers reach the node that runs beside the head) and HTTP (state API, metrics, dashboard and
 * its sign-in), plus the dashboard's live feed, a WebSocket of its own at `/api/live`.
 * It also declares dead the nodes that stop sending heartbeats, and tells every node the free
 * resources of the others so that saturated nodes know where spilling helps.
 */
import {
  KEEPALIVE_INTERVAL_MS, PROTOCOL_VERSION, listenWebSocket, logger, validateClientMessage, validateNodeToHead,
  validatePeerMessage, type Accept, type Hello, type HeadToNode, type NodeToHead, type Validator,
} from '@weft/protocol';
import { Head } from './head.ts';
import { dashboardRoutes } from './dashboard.ts';
import type { JobRunner } from './job-runner.ts';
import { LiveFeed } from './live-feed.ts';
import { HttpAuth } from './sessions.ts';
import { stateApi } from './state-api.ts';
import { submissionRoutes } from './submission-api.ts';

/** Options of the head server. */
export interface HeadServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port. @default 7350 (0: any free port) */
  port?: number;
  /** The cluster token every connection and request must carry. */
  token: string;
  /** Certificate and key (PEM) to serve wss/https. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** A node silent this long is declared dead (checked every 200 ms, so within 4.7 s: the target is 5). @default DEATH_TIMEOUT_MS (4500) */
  heartbeatTimeoutMs?: number;
  /** Largest WebSocket frame accepted. @default 256 MiB */
  maxPayloadBytes?: number;
  /** The head to serve. @default a new Head */
  head?: Head;
  /** Runs job submissions (`weft job submit`); stopped with the server. @default none: the routes answer 503 */
  submissions?: JobRunner;
}

/** A driver or a peer that reached the head's port: the node beside the head serves it. */
export type ConnectionHook = (hello: Hello, accept: Accept) => void;

/** A running head server. */
export interface HeadServer {
  head: Head;
  /** ws:// (or wss://) URL of the head. */
  url: string;
  port: number;
  /** Route drivers and peers that connect to the head's port (the node beside the head). */
  setLocalNode(hooks: { driver: ConnectionHook; peer: ConnectionHook }): void;
  stop(): Promise<void>;
}

/** How often the head checks heartbeats and shares the cluster's free resources. */
const VIEW_INTERVAL_MS = 200;

export async function startHeadServer(options: HeadServerOptions): Promise<HeadServer> {
  const head = options.head ?? new Head({ ...(options.heartbeatTimeoutMs !== undefined ? { deathTimeoutMs: options.heartbeatTimeoutMs } : {}) });
  const log = logger('head-server');
  let local: { driver: ConnectionHook; peer: ConnectionHook } | undefined;
  const validators: Record<Hello['role'], Validator<unknown>> = {
    node: validateNodeToHead, driver: validateClientMessage, peer: validatePeerMessage,
  };
  const auth = new HttpAuth(options.token, options.tls !== undefined);
  const dashboard = dashboardRoutes(auth);
  const api = stateApi(head, auth, submissionRoutes(options.submissions));
  const live = new LiveFeed(head, auth);
  const listener = await listenWebSocket({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 7350,
    token: options.token,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.maxPayloadBytes ? { maxPayloadBytes: options.maxPayloadBytes } : {}),
    // A connection silent for the death timeout is cut, as a node silent that long is dead.
    keepalive: { intervalMs: KEEPALIVE_INTERVAL_MS, timeoutMs: head.deathTimeoutMs },
    onHttp: (req, res) => {
      if (!dashboard(req, res, new URL(req.url ?? '/', 'http://head'))) api(req, res);
    },
    // The dashboard's live feed; every other upgrade is a node, driver or peer.
    onUpgrade: (req, socket, upgradeHead) => live.upgrade(req, socket, upgradeHead),
    validateFor: (role) => validators[role],
    onConnection: (hello, accept) => {
      if (hello.role === 'node') {
        head.attach(accept<NodeToHead, HeadToNode>({ type: 'welcome', version: PROTOCOL_VERSION, id: head.headId }));
        return;
      }
      if (!local) throw new Error(`no node runs beside this head to serve a ${hello.role}`);
      (hello.role === 'driver' ? local.driver : local.peer)(hello, accept);
    },
  });
  const timer = setInterval(() => {
    head.checkHeartbeats();
    head.shareView();
  }, VIEW_INTERVAL_MS);
  timer.unref();
  log.info({ url: listener.url }, 'head listening');
  return {
    head, url: listener.url, port: listener.port,
    setLocalNode: (hooks) => { local = hooks; },
    stop: async () => {
      await options.submissions?.stopAll();
      clearInterval(timer);
      live.close();
      await listener.close();
    },
  };
}
