/**
 * The connecting side of a WebSocket: opens it with the cluster token, sends the hello, waits
 * for the welcome, and turns every way this can fail into an error that says what to do.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { WS_READY_STATE, wsModule } from './ws-module.ts';
import { keepaliveOption, type KeepaliveOptions } from './liveness.ts';
import { CLOSE_CODES, type Hello, type Welcome } from './messages.ts';
import { ProtocolError, validateWelcome, type Validator } from './validate.ts';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_PAYLOAD_BYTES, WebSocketConnection, closeReason, decodeFrame, describeClose,
  encodeFrame, rejectAfterHandshake,
} from './ws-connection.ts';

/** Why {@link connectWebSocket} failed: `UNREACHABLE` (nothing listening, DNS, TLS), `UNAUTHORIZED` (token refused), `VERSION`, `TIMEOUT`, `REFUSED` (handshake refused or not a weft endpoint). */
export type ConnectErrorCode = 'UNREACHABLE' | 'UNAUTHORIZED' | 'VERSION' | 'TIMEOUT' | 'REFUSED';

/** A failed {@link connectWebSocket}, with a message that says what to do. */
export class WebSocketConnectError extends Error {
  /** Stable reason, for callers that retry (UNREACHABLE, TIMEOUT) or give up (the others). */
  readonly code: ConnectErrorCode;
  /** For UNREACHABLE: the socket's error code (`ECONNREFUSED`: nothing listens there; `EHOSTUNREACH`, …); absent otherwise. */
  readonly errno: string | undefined;
  constructor(code: ConnectErrorCode, message: string, errno?: string) {
    super(message);
    this.name = 'WebSocketConnectError';
    this.code = code;
    this.errno = errno;
  }
}

/** Options of {@link connectWebSocket}. */
export interface ConnectOptions<In> {
  /** `ws://host:port` or `wss://host:port`. */
  url: string;
  /** The cluster token, sent as `Authorization: Bearer <token>`. */
  token: string;
  /** The first message sent. */
  hello: Hello;
  /** Checks each message after the welcome. */
  validate: Validator<In>;
  /** Largest frame accepted. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
  /** Most bytes of attachments in one batch, both ways. @default DEFAULT_MAX_BATCH_BYTES */
  maxBatchBytes?: number;
  /** Time allowed from opening to the welcome. @default DEFAULT_HANDSHAKE_TIMEOUT_MS */
  handshakeTimeoutMs?: number;
  /** For wss: the CA that signed the peer's certificate (a self-signed certificate itself); whether to check it. @default system CAs, checked */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  /** What the URL is, in error messages. @default 'the head' */
  target?: string;
  /**
   * Pings of the connection, and how long a silent peer is given (see WebSocketConnectionOptions). `false`: none.
   * @default { intervalMs: KEEPALIVE_INTERVAL_MS, timeoutMs: DEATH_TIMEOUT_MS }
   */
  keepalive?: KeepaliveOptions | false;
}

// The link is authenticated by the token, so the mask (meant to stop cache poisoning through
// proxies by scripts in browsers) buys nothing. A zero mask lets ws skip masking on send and
// unmasking on receive. Measured here, one 100 MB message client → server between two
// processes over loopback, medians of 5: random mask 0.26–0.29 GB/s, zero mask 0.92–1.19 GB/s.
// ws shares one mask buffer between sockets, so it is zeroed on every frame.
const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

/**
 * Opens a WebSocket, sends `hello` and waits for the welcome. Rejects with a
 * {@link WebSocketConnectError} saying what to do when the peer is unreachable, refuses the
 * token or speaks another protocol version, or does not answer in time.
 */
export function connectWebSocket<In, Out>(options: ConnectOptions<In>): Promise<{ conn: WebSocketConnection<In, Out>; welcome: Welcome }> {
  const { url, hello, target = 'the head' } = options;
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  // Everything in the executor, so that a bad option or URL rejects rather than throws.
  return new Promise((resolve, reject) => {
    if (typeof options.token !== 'string' || options.token === '') throw new TypeError('token must be a non-empty string');
    const keepalive = keepaliveOption(options.keepalive);
    const ws: WebSocket = new (wsModule().WebSocket)(url, {
      headers: { authorization: `Bearer ${options.token}` }, maxPayload: maxPayloadBytes, perMessageDeflate: false,
      generateMask: zeroMask, ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    });
    let settled = false;
    const fail = (code: ConnectErrorCode, message: string, closeCode?: number, errno?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (closeCode !== undefined && ws.readyState === WS_READY_STATE.OPEN) ws.close(closeCode, closeReason(message));
      else ws.terminate();
      reject(new WebSocketConnectError(code, message, errno));
    };
    const timer = setTimeout(() => fail('TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`), timeoutMs);
    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      if (status === 401 || status === 403) fail('UNAUTHORIZED', `the cluster refused the token for ${url}: check --token / WEFT_TOKEN`);
      else fail('REFUSED', `${url} answered HTTP ${status} instead of a WebSocket upgrade: is it a weft address?`);
    });
    ws.on('error', (error: Error & { code?: string }) => {
      const code = error.code ?? '';
      const why = code === 'ECONNREFUSED' ? 'is it running? (ECONNREFUSED)'
        : `${error.message}${code === '' ? '' : ` (${code})`}${code.includes('CERT') ? '; pass its certificate as tls.ca' : ''}`;
      fail('UNREACHABLE', `cannot reach ${target} at ${url}: ${why}`, undefined, code === '' ? undefined : code);
    });
    ws.on('close', (code, buffer) => {
      const reason = buffer.toString();
      if (code === CLOSE_CODES.VERSION) {
        const peer = /speaks (\d+)/.exec(reason)?.[1] ?? 'another';
        fail('VERSION', `protocol version mismatch: this weft speaks ${hello.version}, the peer ${peer}; upgrade both`);
      } else {
        fail('REFUSED', `${url} closed the connection during the handshake (${describeClose(code, reason)})`);
      }
    });
    let socket: Socket | undefined;
    ws.on('upgrade', (response: IncomingMessage) => {
      socket = response.socket;
    });
    ws.on('open', () => ws.send(encodeFrame([hello]), { binary: true }));
    ws.once('message', (data, isBinary) => {
      let welcome: Welcome;
      let rest: unknown[];
      try {
        const batch = decodeFrame(data, isBinary);
        welcome = validateWelcome(batch[0]);
        rest = batch.slice(1);
      } catch (error) {
        const [reason, code] = error instanceof ProtocolError ? [error.reason, error.closeCode] : [String(error), CLOSE_CODES.HANDSHAKE];
        fail('REFUSED', `bad answer to the hello from ${url}: ${reason}`, code);
        return;
      }
      if (welcome.version !== hello.version) {
        fail('VERSION', `protocol version mismatch: this weft speaks ${hello.version}, the peer ${welcome.version}; upgrade both`,
          CLOSE_CODES.VERSION);
        return;
      }
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      const conn = new WebSocketConnection<In, Out>(ws, {
        validate: rejectAfterHandshake('welcome', options.validate), remote: url, initial: rest, maxPayloadBytes, keepalive, socket,
        ...(options.maxBatchBytes !== undefined ? { maxBatchBytes: options.maxBatchBytes } : {}),
      });
      resolve({ conn, welcome });
    });
  });
}
