/**
 * The listening side of cluster connections: one http (or https) server whose HTTP requests go
 * to a handler (dashboard, state API, metrics) and whose upgrades become WebSockets. Each
 * upgrade must carry the cluster token; each socket must then send a hello with this protocol
 * version, which the caller accepts with a welcome to get the connection for the rest.
 *
 * A socket's handshake:
 *
 *   upgrade ──token ok──▶ waiting for hello ──hello, version ok──▶ waiting for accept ──▶ open
 *      │ wrong token            │ other first frame: 4004          │ onConnection threw: 4004
 *      ▼                        │ version mismatch: 4001           │
 *   HTTP 401                    ▼                                  ▼
 *                         closed (also after handshakeTimeoutMs without hello or accept: 4004)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WS_READY_STATE, wsModule } from './ws-module.ts';
import { logger } from './logger.ts';
import { keepaliveOption, type KeepaliveOptions } from './liveness.ts';
import { CLOSE_CODES, PROTOCOL_VERSION, type Hello, type PeerRole, type Welcome } from './messages.ts';
import { ProtocolError, validateHello, type Validator } from './validate.ts';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_PAYLOAD_BYTES, WebSocketConnection, closeReason, decodeFrame,
  rejectAfterHandshake,
} from './ws-connection.ts';

/** How long close() waits for peers to answer the close frame before cutting their sockets. */
const CLOSE_GRACE_MS = 1_000;

const log = logger('ws-server');

/** Accepts a hello: sends `welcome` first and returns the connection for the rest. Call it once. */
export type Accept = <In, Out>(welcome: Welcome) => WebSocketConnection<In, Out>;

/** Options of {@link listenWebSocket}. */
export interface ListenOptions {
  /** Interface to listen on, e.g. `127.0.0.1` or `0.0.0.0`. */
  host: string;
  /** Port; 0 picks a free one (reported back). */
  port: number;
  /** The cluster token every upgrade must carry as `Authorization: Bearer <token>`. */
  token: string;
  /** Certificate and key (PEM) for wss; absent: plain ws. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest frame accepted; larger ones close that connection with 1009. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
  /** Most bytes of attachments in one batch, both ways. @default DEFAULT_MAX_BATCH_BYTES */
  maxBatchBytes?: number;
  /** Time allowed from the upgrade to the accept. @default DEFAULT_HANDSHAKE_TIMEOUT_MS */
  handshakeTimeoutMs?: number;
  /**
   * Pings of each connection from its hello on, and how long a silent peer is given (see WebSocketConnectionOptions). `false`: none.
   * @default { intervalMs: KEEPALIVE_INTERVAL_MS, timeoutMs: DEATH_TIMEOUT_MS }
   */
  keepalive?: KeepaliveOptions | false;
  /** Plain HTTP requests. @default answers 404 */
  onHttp?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Upgrades that are not cluster connections (the dashboard's live feed): return true to take
   * the socket (then it checks what it needs itself), false to leave it to the token check and
   * the handshake. @default none: every upgrade is a cluster connection
   */
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** A peer said hello: call `accept` with a welcome (now or later), or throw to refuse it. */
  onConnection: (hello: Hello, accept: Accept) => void | Promise<void>;
  /** The validator of messages from a peer of this role; may throw a ProtocolError to refuse the role. */
  validateFor: (role: PeerRole) => Validator<unknown>;
}

/** A listening server from {@link listenWebSocket}. */
export interface WebSocketListener {
  /** The http or https server (for tests and for extra listeners). */
  server: Server;
  /** The port it listens on (the ephemeral one when 0 was asked). */
  port: number;
  /** `ws://host:port` or `wss://host:port`. */
  url: string;
  /** Closes every socket with CLOSE_CODES.GOING_AWAY, then the server. */
  close(): Promise<void>;
}

/** Starts a server for cluster WebSocket connections and HTTP; see the module comment for the handshake. */
export async function listenWebSocket(options: ListenOptions): Promise<WebSocketListener> {
  if (typeof options.token !== 'string' || options.token === '') throw new TypeError('token must be a non-empty string');
  keepaliveOption(options.keepalive); // a bad option fails here, not at the first connection
  const server = options.tls === undefined ? createHttpServer() : createHttpsServer({ cert: options.tls.cert, key: options.tls.key });
  const onHttp = options.onHttp ?? notFound;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    try {
      onHttp(req, res);
    } catch (error) {
      // The path only: a dashboard URL carries the token in its query.
      log.error({ err: error, path: req.url?.split('?')[0] }, 'HTTP handler threw');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  const sockets = new Map<WebSocket, WebSocketConnection<unknown, unknown> | undefined>();
  const wss = new (wsModule().WebSocketServer)({
    noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
  });
  const expected = digest(`Bearer ${options.token}`);
  let closing: Promise<void> | undefined;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    socket.on('error', (error) => log.debug({ err: error, remote }, 'socket error before the upgrade'));
    if (closing !== undefined) return void socket.end(httpStatus(503, 'shutting down'));
    if (options.onUpgrade?.(req, socket, head) === true) return;
    // Hashes have equal lengths, so the comparison takes the same time whatever the header.
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      log.warn({ remote }, 'refused a connection with a missing or wrong token');
      return void socket.end(httpStatus(401, 'missing or wrong token'));
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(ws, undefined);
      ws.on('close', () => sockets.delete(ws));
      handshake(ws, req.socket, remote, options, (conn) => sockets.set(ws, conn));
    });
  });
  await listen(server, options.host, options.port);
  server.on('error', (error) => log.error({ err: error }, 'server error'));
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const close = (): Promise<void> => (closing ??= closeAll(server, sockets));
  return { server, port, url: `${options.tls === undefined ? 'ws' : 'wss'}://${host}:${port}`, close };
}

/** Waits for the hello, checks it, and hands it to onConnection. */
function handshake(ws: WebSocket, socket: Socket, remote: string, options: ListenOptions,
  created: (conn: WebSocketConnection<unknown, unknown>) => void): void {
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  let conn: WebSocketConnection<unknown, unknown> | undefined;
  let accepted = false;
  const refuse = (code: number, reason: string): void => {
    clearTimeout(timer);
    log.warn({ remote, reason, code }, 'refused a connection at the handshake');
    if (conn !== undefined) conn.close(reason, code);
    else ws.close(code, closeReason(reason));
  };
  const timer = setTimeout(() => {
    refuse(CLOSE_CODES.HANDSHAKE, `${conn === undefined ? 'no hello' : 'hello not accepted'} within ${timeoutMs} ms`);
  }, timeoutMs);
  const onError = (error: Error): void => log.warn({ remote, reason: error.message }, 'socket error during the handshake');
  ws.on('error', onError);
  ws.on('close', () => clearTimeout(timer));
  ws.once('message', (data, isBinary) => {
    let hello: Hello;
    let validate: Validator<unknown>;
    let rest: unknown[];
    try {
      const batch = decodeFrame(data, isBinary);
      // The version first: another version may shape its hello differently.
      const version = (batch[0] as { version?: unknown } | undefined)?.version;
      if (typeof version === 'number' && version !== PROTOCOL_VERSION) {
        throw new ProtocolError(`protocol version mismatch: this peer speaks ${PROTOCOL_VERSION}, got ${version}`, CLOSE_CODES.VERSION);
      }
      hello = validateHello(batch[0]);
      validate = options.validateFor(hello.role);
      rest = batch.slice(1);
    } catch (error) {
      const isProtocol = error instanceof ProtocolError;
      refuse(isProtocol && error.closeCode !== CLOSE_CODES.BAD_FRAME ? error.closeCode : CLOSE_CODES.HANDSHAKE,
        isProtocol ? error.reason : String(error));
      return;
    }
    // From here the connection owns the socket; it buffers what arrives until it is accepted.
    ws.off('error', onError);
    const c = new WebSocketConnection<unknown, unknown>(ws, {
      validate: rejectAfterHandshake('hello', validate), remote, initial: rest,
      maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES, keepalive: options.keepalive, socket,
      ...(options.maxBatchBytes !== undefined ? { maxBatchBytes: options.maxBatchBytes } : {}),
    });
    conn = c;
    created(c);
    const accept = (<In, Out>(welcome: Welcome): WebSocketConnection<In, Out> => {
      if (accepted) throw new Error(`accept called twice for ${hello.role} ${hello.id}`);
      accepted = true;
      clearTimeout(timer);
      c.send(welcome); // first in the queue, so first in the first frame
      return c as WebSocketConnection<In, Out>;
    }) satisfies Accept;
    const failed = (error: unknown): void => {
      const message = error instanceof Error ? error.message : String(error);
      if (!accepted) return refuse(CLOSE_CODES.HANDSHAKE, message);
      log.error({ err: error, remote }, 'onConnection threw after accepting');
      c.close(`internal error: ${message}`, 1011);
    };
    try {
      const pending = options.onConnection(hello, accept);
      if (pending !== undefined) pending.catch(failed);
    } catch (error) {
      failed(error);
    }
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function httpStatus(status: number, text: string): string {
  const reason = status === 401 ? 'Unauthorized' : 'Service Unavailable';
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}

function notFound(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

/** What to tell a user whose `port` on `host` another process holds; `otherwise`: the other way out. */
export function portInUseMessage(port: number, host: string, otherwise = 'choose another port'): string {
  return `port ${port} on ${host} is in use: stop what holds it or ${otherwise}`;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: Error & { code?: string }) => {
      reject(error.code === 'EADDRINUSE'
        ? Object.assign(new Error(portInUseMessage(port, host)), { code: error.code })
        : error);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
}

async function closeAll(server: Server, sockets: Map<WebSocket, WebSocketConnection<unknown, unknown> | undefined>): Promise<void> {
  const closed = [...sockets.keys()].map((ws) => new Promise<void>((resolve) => {
    if (ws.readyState === WS_READY_STATE.CLOSED) resolve();
    else ws.once('close', () => resolve());
  }));
  for (const [ws, conn] of sockets) {
    if (conn !== undefined) conn.close('the server is shutting down', CLOSE_CODES.GOING_AWAY);
    else ws.close(CLOSE_CODES.GOING_AWAY, 'the server is shutting down');
  }
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise((resolve) => { grace = setTimeout(resolve, CLOSE_GRACE_MS); })]);
  clearTimeout(grace);
  for (const ws of sockets.keys()) ws.terminate();
  await Promise.all(closed);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
