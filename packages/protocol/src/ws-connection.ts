/**
 * Protocol messages over a WebSocket (cluster mode). Like the other transports it batches: the
 * messages sent in one turn of the event loop leave as one binary frame, the msgpack of the
 * array of messages. Every frame received is decoded and every message validated before any is
 * delivered; a frame that fails closes that one connection (CLOSE_CODES.BAD_FRAME) with a
 * logged reason, and nothing is thrown out of the socket's event handlers. A keepalive (see
 * liveness.ts) pings the peer and cuts the connection when nothing comes back for a while.
 */
import { constants as bufferConstants } from 'node:buffer';
import { Packr, Unpackr } from 'msgpackr';
import type WebSocket from 'ws';
import { WS_READY_STATE } from './ws-module.ts';
import { logger } from './logger.ts';
import type { Connection } from './connection.ts';
import { CLOSE_CODES } from './messages.ts';
import { MicrotaskBatcher } from './batcher.ts';
import { allocateFrame } from './frame-memory.ts';
import { Keepalive, keepaliveOption, type KeepaliveOptions } from './liveness.ts';
import { ProtocolError, type Validator } from './validate.ts';

/** Largest frame accepted (ws's `maxPayload`); larger ones close the connection with 1009. */
export const DEFAULT_MAX_PAYLOAD_BYTES = Number(process.env.WEFT_MAX_FRAME_BYTES) > 0 ? Number(process.env.WEFT_MAX_FRAME_BYTES) : 256 * 1024 * 1024;
/**
 * Most bytes of attachments one batch may carry (a large put or get), counted against what the
 * batch announces and what arrives, before anything is kept: at most 4 GiB, and never more than
 * Node's largest Buffer, since an attachment in parts is joined into one. A batch over it closes
 * its connection (CLOSE_CODES.TOO_BIG).
 */
export const DEFAULT_MAX_BATCH_BYTES = Math.min(
  Number(process.env.WEFT_MAX_BATCH_BYTES) > 0 ? Number(process.env.WEFT_MAX_BATCH_BYTES) : 4 * 1024 ** 3, bufferConstants.MAX_LENGTH);
/** Time allowed from opening a socket to the welcome (client) or the accept (server). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Frames below this size are decoded with copies of their binary fields (see decodeFrame). */
const COPY_BELOW_BYTES = 64 * 1024;
/** A WebSocket close reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

const log = logger('ws');
// Not the value codec of codec.ts: values inside messages are already encoded frames (Uint8Array).
const packr = new Packr({ useRecords: false, moreTypes: false });
// Binary fields decode as views of the received frame. A small frame is usually a view of a
// 64 KiB socket read or of Node's shared 8 KiB pool, and a small object kept in a store would
// pin that whole buffer, so small frames are decoded with copies; large frames keep the views.
const copyingUnpackr = new Unpackr({ useRecords: false, moreTypes: false, copyBuffers: true });

/** Binary fields this large travel as frames of their own, after the batch that names them. */
const ATTACH_MIN_BYTES = 256 * 1024;
/**
 * Attachments larger than this go in parts of this size (at most half the frame limit). ws joins
 * the socket reads of each frame into a buffer of its own; a buffer this small is recycled warm by
 * the allocator, where one of 100 MB is fresh memory whose pages fault in (~11 µs each here). The
 * receiver writes each part at its offset in one buffer of the announced length (allocateFrame:
 * shared memory, touched ahead by the node's pool), so a large value is copied once on arrival.
 */
const ATTACH_PART_BYTES = 1024 * 1024;
/** Attachments one batch may announce. */
const MAX_ATTACHMENTS = 4096;
/** Frames one attachment may be cut into (each at most half the frame limit). */
const MAX_PARTS = 1 << 16;
/** How deep in a message binary fields are looked for (object-chunk.data is 1, objects.results[i].value.data 4). */
const ATTACH_DEPTH = 4;

/** Encodes a batch of messages as one frame. */
export function encodeFrame(messages: readonly unknown[]): Buffer {
  return packr.pack(messages);
}

/**
 * Messages marked by {@link shareFrame}: null until the first connection that sends one encodes
 * it, then its frame. Weak: a message forgotten by its sender goes with its frame.
 */
const sharedFrames = new WeakMap<object, Buffer | null>();

/**
 * Marks `message` as sent unchanged on many connections (the head's view of the cluster, to every
 * node every 200 ms): a connection that sends it alone in its batch reuses the frame the first one
 * encoded, so that N connections cost one encoding instead of N (which made the head's view
 * quadratic in the nodes). The message must not change once sent; returns it. The frame is
 * written as it is to each socket: ws changes no frame it sends here (a server does not mask,
 * and weft's clients mask with zeros, see ws-client.ts).
 */
export function shareFrame<M extends object>(message: M): M {
  if (!sharedFrames.has(message)) sharedFrames.set(message, null);
  return message;
}

/**
 * Large binary fields (object chunks, large values) leave the message: each is replaced by
 * `{ $att: i }` and sent as a raw frame of its own right after the batch. msgpack would copy
 * them into a fresh frame buffer (and the receiver pay for it again); a raw frame goes to the
 * socket as it is.
 */
function detach(value: unknown, out: Uint8Array[], depth: number): unknown {
  if (value instanceof Uint8Array) {
    if (value.byteLength < ATTACH_MIN_BYTES) return value;
    out.push(value);
    return { $att: out.length - 1 };
  }
  if (depth === 0 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = detach(value[i], out, depth - 1);
      if (item !== value[i]) (copy ??= value.slice())[i] = item;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    const item = detach(field, out, depth - 1);
    if (item !== field) (copy ??= { ...(value as Record<string, unknown>) })[key] = item;
  }
  return copy ?? value;
}

/** Puts received attachments back where `detach` took them. */
function attach(value: unknown, attachments: Uint8Array[], depth: number): unknown {
  if (depth < 0 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = attach(value[i], attachments, depth - 1);
    return value;
  }
  const index = (value as { $att?: unknown }).$att;
  if (typeof index === 'number' && Object.keys(value).length === 1) {
    const found = attachments[index];
    if (found === undefined) throw new ProtocolError(`attachment ${index} was not sent`);
    return found;
  }
  for (const key in value) (value as Record<string, unknown>)[key] = attach((value as Record<string, unknown>)[key], attachments, depth - 1);
  return value;
}

/** Decodes a received frame into its (not yet validated) messages; throws a ProtocolError. */
export function decodeFrame(data: WebSocket.RawData, isBinary: boolean): unknown[] {
  const decoded = decodeBatch(data, isBinary, { maxPayloadBytes: 0, maxBatchBytes: 0 });
  if (decoded.parts.length > 0) throw new ProtocolError('attachments are not expected here');
  return decoded.batch;
}

/**
 * A received batch: its messages and, for each attachment that follows, its number of frames and
 * (`bytes`, absent from senders that do not announce it) its length.
 */
interface Batch {
  batch: unknown[];
  parts: number[];
  bytes: number[] | undefined;
}

/** A batch whose attachments are arriving (see WebSocketConnection's #awaiting). */
interface Awaiting extends Batch {
  attachments: Uint8Array[];
  current: Buffer[];
  target: Uint8Array | undefined;
  received: number;
  currentBytes: number;
  currentParts: number;
}

/** Decodes a batch frame and checks what it announces against the limits; throws a ProtocolError. */
function decodeBatch(data: WebSocket.RawData, isBinary: boolean, limits: { maxPayloadBytes: number; maxBatchBytes: number }): Batch {
  if (!isBinary || !Buffer.isBuffer(data)) throw new ProtocolError('text frame (weft sends binary frames only)');
  let batch: unknown;
  let end = 0;
  try {
    // unpackMultiple stopped after one value, not unpack: on trailing bytes unpack puts the JSON
    // of the whole decoded value in its error message, which for a large frame costs seconds.
    (data.length < COPY_BELOW_BYTES ? copyingUnpackr : packr).unpackMultiple(data, (value: unknown, _start, stop) => {
      batch = value;
      end = stop ?? 0;
      return false;
    });
  } catch (error) {
    throw new ProtocolError(`frame does not decode as msgpack (${String((error as Error).message).slice(0, 60)})`);
  }
  if (end !== data.length) throw new ProtocolError('frame has bytes after its message array');
  if (Array.isArray(batch)) return { batch, parts: [], bytes: undefined };
  const framed = batch as { $batch?: unknown; $parts?: unknown; $bytes?: unknown } | undefined;
  const parts = framed?.$parts;
  if (!framed || !Array.isArray(framed.$batch) || !Array.isArray(parts) || parts.length === 0 || parts.length > MAX_ATTACHMENTS
    || !parts.every((n) => Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= MAX_PARTS)) {
    throw new ProtocolError('frame is not an array of messages');
  }
  const bytes = framed.$bytes;
  if (bytes === undefined) return { batch: framed.$batch, parts: parts as number[], bytes: undefined };
  if (!Array.isArray(bytes) || bytes.length !== parts.length
    || !bytes.every((n, i) => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) <= (parts[i] as number) * limits.maxPayloadBytes)) {
    throw new ProtocolError('batch announces attachment lengths that do not match its parts');
  }
  let total = 0;
  for (const n of bytes as number[]) total += n;
  if (total > limits.maxBatchBytes) {
    throw new ProtocolError(`batch announces ${total} bytes of attachments, over the limit of ${limits.maxBatchBytes} bytes`
      + ' (WEFT_MAX_BATCH_BYTES): send large values in smaller pieces', CLOSE_CODES.TOO_BIG);
  }
  return { batch: framed.$batch, parts: parts as number[], bytes: bytes as number[] };
}

/** Cuts a close reason to the 123 bytes a close frame can carry. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let cut = reason.slice(0, MAX_CLOSE_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_CLOSE_REASON_BYTES - 3) cut = cut.slice(0, -1);
  return `${cut}...`;
}

const CODE_NAMES = new Map<number, string>([
  ...Object.entries(CLOSE_CODES).map(([name, code]) => [code, name] as [number, string]),
  [1000, 'normal'], [1001, 'going away'], [1006, 'no close frame'], [1009, 'message too big'],
]);

/** A readable description of a close code and reason, e.g. `1009 message too big`. */
export function describeClose(code: number, reason: string): string {
  const name = CODE_NAMES.get(code);
  return `${code}${name === undefined ? '' : ` ${name}`}${reason === '' ? '' : `: ${reason}`}`;
}

/** Options of a {@link WebSocketConnection}. */
export interface WebSocketConnectionOptions<In> {
  /** Checks each incoming message; a failure closes the connection. */
  validate: Validator<In>;
  /** The peer, for logs (an address or URL). */
  remote: string;
  /** Messages that arrived in the handshake frame after the hello or welcome: validated and delivered first. Absent: none. */
  initial?: unknown[];
  /** The socket's maxPayload, for the reason logged when a frame exceeds it. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
  /** Most bytes of attachments in one batch, both ways (see DEFAULT_MAX_BATCH_BYTES). @default DEFAULT_MAX_BATCH_BYTES */
  maxBatchBytes?: number;
  /**
   * Pings the peer every intervalMs; a peer from which nothing (message, ping, pong) was received
   * for timeoutMs is taken for dead and its socket cut. `false`: no pings, a silent peer is kept.
   * @default { intervalMs: KEEPALIVE_INTERVAL_MS, timeoutMs: DEATH_TIMEOUT_MS }
   */
  keepalive?: KeepaliveOptions | false;
  /** The TCP or TLS socket under the WebSocket: bytes of a frame still arriving count as life. Absent: only whole frames do. */
  socket?: { readonly bytesRead: number };
}

/** A {@link Connection} over an open `ws` WebSocket whose handshake is done. */
export class WebSocketConnection<In, Out> implements Connection<In, Out> {
  /** The peer, as given in the options. */
  readonly remote: string;
  readonly #ws: WebSocket;
  readonly #validate: Validator<In>;
  readonly #maxPayloadBytes: number;
  readonly #maxBatchBytes: number;
  readonly #batch = new MicrotaskBatcher<Out>(() => this.#flush());
  /**
   * A batch whose attachment frames are still arriving: `received` bytes of them in all,
   * `currentBytes` and `currentParts` of the current one, whose parts are kept in `current` or,
   * when its length was announced, written into `target` at their offsets.
   */
  #awaiting: Awaiting | undefined;
  #handler: ((message: In) => void) | undefined;
  /** Messages received before a handler was set, or while the first handler is being caught up. */
  #pending: In[] = [];
  #closeHandler: ((reason: string) => void) | undefined;
  /** Set once closed: the reason given to the close handler. */
  #closedWith: string | undefined;
  /** A socket error seen before the close event (it explains the close better than the code). */
  #error: string | undefined;
  /** Absent when the keepalive option is false. */
  readonly #keepalive: Keepalive | undefined;

  constructor(ws: WebSocket, options: WebSocketConnectionOptions<In>) {
    const keepalive = keepaliveOption(options.keepalive);
    this.#ws = ws;
    this.remote = options.remote;
    this.#validate = options.validate;
    this.#maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.#maxBatchBytes = Math.min(options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES, bufferConstants.MAX_LENGTH);
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('error', (error) => this.#onError(error));
    ws.on('close', (code, reason) => this.#finish(this.#error ?? `closed by ${this.remote} (${describeClose(code, reason.toString())})`));
    if (keepalive !== false) this.#keepalive = this.#startKeepalive(keepalive, options.socket);
    if (options.initial !== undefined && options.initial.length > 0) this.#receive(options.initial);
    if (ws.readyState === WS_READY_STATE.CLOSING || ws.readyState === WS_READY_STATE.CLOSED) this.#finish(`closed by ${this.remote}`);
  }

  /** Whether the connection is closed (sends are dropped). */
  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  send(message: Out): void {
    if (this.#closedWith === undefined) this.#batch.push(message);
  }

  #flush(): void {
    if (this.#batch.size === 0 || this.#ws.readyState !== WS_READY_STATE.OPEN) return;
    this.#sendBatch(this.#batch.take());
  }

  /**
   * Send a batch as one frame, or, when that frame would pass half the frame limit (several object
   * chunks sent in one turn), as smaller frames: the peer refuses frames over the limit.
   */
  #sendBatch(batch: Out[]): void {
    const only = batch.length === 1 && typeof batch[0] === 'object' && batch[0] !== null ? batch[0] : undefined;
    const shared = only === undefined ? undefined : sharedFrames.get(only);
    if (shared) {
      this.#ws.send(shared, { binary: true });
      return;
    }
    let frame: Buffer;
    const attachments: Uint8Array[] = [];
    let attached = 0;
    try {
      const messages = batch.map((message) => detach(message, attachments, ATTACH_DEPTH));
      for (const bytes of attachments) attached += bytes.byteLength;
      if (attached > this.#maxBatchBytes && batch.length === 1) {
        throw new Error(`a ${(batch[0] as { type?: unknown }).type as string} message carries ${attached} bytes, over the limit of `
          + `${this.#maxBatchBytes} bytes of one batch (WEFT_MAX_BATCH_BYTES)`);
      }
      frame = attachments.length === 0 ? encodeFrame(messages) : packr.pack({
        $batch: messages, $parts: attachments.map((bytes) => Math.max(1, Math.ceil(bytes.byteLength / this.#partBytes))),
        $bytes: attachments.map((bytes) => bytes.byteLength),
      });
    } catch (error) {
      // A bug (a message holding something msgpack cannot carry); throwing here would crash the process.
      log.error({ err: error, remote: this.remote }, 'cannot encode a batch of messages');
      this.close(`internal error: cannot encode a message (${(error as Error).message})`, 1011);
      return;
    }
    // The peer refuses a batch whose attachments pass the batch limit: those go in several batches.
    if ((frame.length > this.#maxPayloadBytes / 2 || attached > this.#maxBatchBytes) && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      this.#sendBatch(batch.slice(0, half));
      this.#sendBatch(batch.slice(half));
      return;
    }
    // Only a frame that carries everything is shared: attachments go as frames of their own.
    if (shared === null && attachments.length === 0) sharedFrames.set(only as object, frame);
    this.#ws.send(frame, { binary: true });
    // An attachment larger than a part (a large put or get) goes in parts.
    for (const attachment of attachments) {
      if (attachment.byteLength <= this.#partBytes) this.#ws.send(attachment, { binary: true });
      else for (let at = 0; at < attachment.byteLength; at += this.#partBytes) this.#ws.send(attachment.subarray(at, at + this.#partBytes), { binary: true });
    }
  }

  /** Bytes per frame of an attachment cut in parts. */
  get #partBytes(): number {
    return Math.max(1, Math.min(ATTACH_PART_BYTES, Math.floor(this.#maxPayloadBytes / 2)));
  }

  /** Sets the message handler; messages that arrived before it are delivered first, in a later microtask. */
  onMessage(handler: (message: In) => void): void {
    const first = this.#handler === undefined;
    this.#handler = handler;
    if (first && this.#pending.length > 0) queueMicrotask(this.#drain);
  }

  /** Sets the close handler; set after the connection closed, it is still called once. */
  onClose(handler: (reason: string) => void): void {
    const late = this.#closedWith !== undefined && this.#closeHandler === undefined;
    this.#closeHandler = handler;
    const reason = this.#closedWith;
    if (late && reason !== undefined) queueMicrotask(() => this.#notifyClose(handler, reason));
  }

  /**
   * Sends what is queued, then closes the socket.
   * @param code WebSocket close code. @default 1000
   */
  close(reason = 'closed', code = 1000): void {
    if (this.#closedWith !== undefined) return;
    this.#flush();
    this.#finish(reason);
    this.#ws.close(code, closeReason(reason));
  }

  #startKeepalive(options: KeepaliveOptions, socket: { readonly bytesRead: number } | undefined): Keepalive {
    const ws = this.#ws;
    const keepalive = new Keepalive(options, {
      ping: () => {
        if (ws.readyState === WS_READY_STATE.OPEN) ws.ping();
      },
      ...(socket === undefined ? {} : { bytesRead: () => socket.bytesRead }),
      silent: () => {
        const reason = `no answer from ${this.remote} for ${options.timeoutMs} ms (keepalive)`;
        log.warn({ reason, remote: this.remote }, 'closing a connection to a silent peer');
        this.#finish(reason);
        // Not close(): its handshake would wait 30 s for a close frame from a peer that does not answer.
        ws.terminate();
      },
    });
    // A ping from the peer (ws answers it by itself) and a pong to ours both count as life.
    ws.on('ping', keepalive.heard);
    ws.on('pong', keepalive.heard);
    return keepalive;
  }

  #onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closedWith !== undefined) return;
    this.#keepalive?.heard();
    if (this.#awaiting) return this.#onAttachment(data, isBinary);
    let decoded: Batch;
    try {
      decoded = decodeBatch(data, isBinary, { maxPayloadBytes: this.#maxPayloadBytes, maxBatchBytes: this.#maxBatchBytes });
    } catch (error) {
      this.#badFrame(error);
      return;
    }
    if (decoded.parts.length > 0) this.#awaiting = { ...decoded, attachments: [], current: [], target: undefined, received: 0, currentBytes: 0, currentParts: 0 };
    else this.#receive(decoded.batch);
  }

  /**
   * A raw attachment frame of the batch before it. Its bytes are counted against the batch limit
   * and the length announced before the frame is kept, so a sender cannot make this side hold
   * more than the limit, nor make the join of its parts throw.
   */
  #onAttachment(data: WebSocket.RawData, isBinary: boolean): void {
    const awaiting = this.#awaiting!;
    if (!isBinary || !Buffer.isBuffer(data)) return this.#badFrame(new ProtocolError('attachment is not a binary frame'));
    const index = awaiting.attachments.length;
    const announced = awaiting.bytes?.[index];
    awaiting.received += data.length;
    awaiting.currentBytes += data.length;
    if (awaiting.received > this.#maxBatchBytes) {
      return this.#badFrame(new ProtocolError(`batch sent more than ${this.#maxBatchBytes} bytes of attachments, over the limit of `
        + `${this.#maxBatchBytes} bytes (WEFT_MAX_BATCH_BYTES)`, CLOSE_CODES.TOO_BIG));
    }
    if (announced !== undefined && awaiting.currentBytes > announced) {
      return this.#badFrame(new ProtocolError(`attachment ${index} is longer than the ${announced} bytes announced`));
    }
    awaiting.currentParts += 1;
    const last = awaiting.currentParts === awaiting.parts[index];
    if (last && announced !== undefined && awaiting.currentBytes < announced) {
      return this.#badFrame(new ProtocolError(`attachment ${index} is shorter than the ${announced} bytes announced`));
    }
    const joined = announced !== undefined && (awaiting.parts[index] as number) > 1 ? this.#place(awaiting, index, announced, data, last) : this.#collect(awaiting, index, data, last);
    if (joined === undefined) return;
    awaiting.attachments.push(joined);
    awaiting.current = [];
    awaiting.target = undefined;
    awaiting.currentBytes = 0;
    awaiting.currentParts = 0;
    if (awaiting.attachments.length < awaiting.parts.length) return;
    this.#awaiting = undefined;
    try {
      attach(awaiting.batch, awaiting.attachments, ATTACH_DEPTH + 1);
    } catch (error) {
      return this.#badFrame(error);
    }
    this.#receive(awaiting.batch);
  }

  /**
   * A part of an attachment of announced length: written at its offset into the attachment's one
   * buffer (taken at its first part; the parts' lengths were checked against the announced one).
   * Returns the buffer after the last part; undefined before it, or when the connection closed.
   */
  #place(awaiting: Awaiting, index: number, announced: number, data: Buffer, last: boolean): Uint8Array | undefined {
    if (awaiting.target === undefined) {
      try {
        awaiting.target = allocateFrame(announced);
      } catch (error) {
        // Out of memory: this connection goes, the process stays.
        this.#badFrame(new ProtocolError(`cannot take ${announced} bytes for attachment ${index}: ${(error as Error).message}`, CLOSE_CODES.TOO_BIG));
        return undefined;
      }
    }
    awaiting.target.set(data, awaiting.currentBytes - data.length);
    return last ? awaiting.target : undefined;
  }

  /**
   * A part of an attachment whose length was not announced (or that comes in one frame): kept
   * until the last part, then joined. Returns as #place does.
   */
  #collect(awaiting: Awaiting, index: number, data: Buffer, last: boolean): Uint8Array | undefined {
    awaiting.current.push(data);
    if (!last) return undefined;
    try {
      return awaiting.current.length === 1 ? data : Buffer.concat(awaiting.current, awaiting.currentBytes);
    } catch (error) {
      // Out of memory: this connection goes, the process stays.
      this.#badFrame(new ProtocolError(`cannot join attachment ${index} of ${awaiting.currentBytes} bytes: ${(error as Error).message}`, CLOSE_CODES.TOO_BIG));
      return undefined;
    }
  }

  #receive(batch: unknown[]): void {
    let messages: In[];
    try {
      messages = batch.map(this.#validate);
    } catch (error) {
      this.#badFrame(error);
      return;
    }
    if (this.#handler === undefined || this.#pending.length > 0) {
      for (const message of messages) this.#pending.push(message);
      return;
    }
    for (const message of messages) this.#deliver(message);
  }

  readonly #drain = (): void => {
    // Frames that arrive meanwhile are appended, so the order holds.
    for (let i = 0; i < this.#pending.length; i++) this.#deliver(this.#pending[i]!);
    this.#pending = [];
  };

  #deliver(message: In): void {
    if (this.#closedWith !== undefined || this.#handler === undefined) return;
    try {
      this.#handler(message);
    } catch (error) {
      // A bug in the handler: keep the socket's event loop alive and say where it happened.
      log.error({ err: error, remote: this.remote, type: (message as { type?: unknown }).type }, 'message handler threw');
    }
  }

  #badFrame(error: unknown): void {
    const reason = error instanceof ProtocolError ? error.reason : String(error);
    const code = error instanceof ProtocolError ? error.closeCode : CLOSE_CODES.BAD_FRAME;
    log.warn({ reason, remote: this.remote, code }, 'closing a connection after a bad frame');
    this.close(`bad frame from ${this.remote}: ${reason}`, code);
  }

  #onError(error: Error & { code?: string }): void {
    // ws has already started closing the socket; the close event follows and gives this reason.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.#error = `frame from ${this.remote} over the size limit of ${this.#maxPayloadBytes} bytes (closed with 1009)`;
      log.warn({ reason: this.#error, remote: this.remote }, 'closing a connection after an oversized frame');
    } else {
      this.#error = `socket error with ${this.remote}: ${error.message}`;
      log.warn({ reason: this.#error, remote: this.remote, code: error.code }, 'closing a connection after a socket error');
    }
  }

  #finish(reason: string): void {
    if (this.#closedWith !== undefined) return;
    this.#closedWith = reason;
    this.#keepalive?.stop();
    this.#awaiting = undefined; // what arrived of a batch is not kept
    this.#batch.take();
    this.#pending = [];
    if (this.#closeHandler !== undefined) this.#notifyClose(this.#closeHandler, reason);
  }

  #notifyClose(handler: (reason: string) => void, reason: string): void {
    try {
      handler(reason);
    } catch (error) {
      log.error({ err: error, remote: this.remote }, 'close handler threw');
    }
  }
}

/** Wraps a validator to refuse a handshake message (`hello` or `welcome`) after the handshake. */
export function rejectAfterHandshake<T>(type: 'hello' | 'welcome', validate: Validator<T>): Validator<T> {
  return (x) => {
    const message = validate(x);
    if ((message as { type?: unknown }).type === type) throw new ProtocolError(`${type} came twice`, CLOSE_CODES.HANDSHAKE);
    return message;
  };
}
