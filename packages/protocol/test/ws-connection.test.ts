import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
// Registers weft's value extensions with msgpackr, as in every process that runs weft.
import '../src/codec.ts';
import { KEEPALIVE_INTERVAL_MS } from '../src/liveness.ts';
import { CLOSE_CODES, PROTOCOL_VERSION, type Hello, type PeerMessage, type Welcome } from '../src/messages.ts';
import { validatePeerMessage } from '../src/validate.ts';
import { connectWebSocket, type ConnectOptions } from '../src/ws-client.ts';
import { decodeFrame, encodeFrame, shareFrame, type WebSocketConnection } from '../src/ws-connection.ts';
import { listenWebSocket, type ListenOptions } from '../src/ws-server.ts';

const TOKEN = 'test-token';
const hello = (id: string): Hello => ({ type: 'hello', version: PROTOCOL_VERSION, role: 'peer', id });
const WELCOME: Welcome = { type: 'welcome', version: PROTOCOL_VERSION, id: 'server' };
const subscribe = (i: number): PeerMessage => ({ type: 'subscribe-object', objectId: `obj-${i}` });

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server that echoes every message back, recording why its connections closed. */
async function echoServer(options: Partial<ListenOptions> = {}) {
  const closes: string[] = [];
  const listener = await listenWebSocket({
    host: '127.0.0.1', port: 0, token: TOKEN, validateFor: () => validatePeerMessage,
    onConnection: (_hello, accept) => {
      const conn = accept<PeerMessage, PeerMessage>(WELCOME);
      conn.onMessage((message) => conn.send(message));
      conn.onClose((reason) => closes.push(reason));
    },
    ...options,
  });
  cleanups.push(() => listener.close());
  return { listener, closes };
}

async function client(url: string, options: Partial<ConnectOptions<PeerMessage>> = {}): Promise<WebSocketConnection<PeerMessage, PeerMessage>> {
  const { conn } = await connectWebSocket<PeerMessage, PeerMessage>({ url, token: TOKEN, hello: hello('client'), validate: validatePeerMessage, ...options });
  cleanups.push(() => conn.close());
  return conn;
}

/** Resolves with the next `count` messages on `conn`. */
function nextMessages(conn: WebSocketConnection<PeerMessage, PeerMessage>, count: number): Promise<PeerMessage[]> {
  const received: PeerMessage[] = [];
  return new Promise((resolve) => conn.onMessage((message) => {
    received.push(message);
    if (received.length === count) resolve(received);
  }));
}

/** A plain ws client that does the handshake by hand, to send what weft never would. */
async function rawClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  cleanups.push(() => ws.terminate());
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(encodeFrame([hello('raw')]));
  const [data, isBinary] = await new Promise<[WebSocket.RawData, boolean]>((resolve) => ws.once('message', (d, b) => resolve([d, b])));
  expect(decodeFrame(data, isBinary)[0]).toEqual(WELCOME);
  return ws;
}

/** A plain ws server that welcomes every hello by hand, for peers that behave as weft never would. */
async function rawServer(): Promise<{ url: string; sockets: WebSocket[]; pings: () => number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const sockets: WebSocket[] = [];
  let pings = 0;
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('ping', () => pings++);
    ws.once('message', () => ws.send(encodeFrame([WELCOME])));
  });
  cleanups.push(() => new Promise((resolve) => {
    for (const ws of sockets) ws.terminate();
    wss.close(resolve);
  }));
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, sockets, pings: () => pings };
}

/** Counts the pings `ws` receives (ws answers each with a pong by itself). */
function countPings(ws: WebSocket): () => number {
  let pings = 0;
  ws.on('ping', () => pings++);
  return () => pings;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

describe('WebSocketConnection', () => {
  it('sends the messages of one turn as one frame and receives a frame of many messages in order', async () => {
    const { listener } = await echoServer();
    const ws = await rawClient(listener.url);
    const frames: unknown[][] = [];
    const got = new Promise<void>((resolve) => ws.on('message', (data, isBinary) => {
      frames.push(decodeFrame(data, isBinary));
      resolve();
    }));
    const batch = Array.from({ length: 100 }, (_, i) => subscribe(i));
    ws.send(encodeFrame(batch));
    await got;
    // The server echoed each message with its own send() call, all in one turn: one frame back.
    expect(frames).toEqual([batch]);
  });

  it('encodes a message shared by many connections once, and each peer receives it', async () => {
    const served: Array<WebSocketConnection<PeerMessage, PeerMessage>> = [];
    const listener = await listenWebSocket({
      host: '127.0.0.1', port: 0, token: TOKEN, validateFor: () => validatePeerMessage,
      onConnection: (_hello, accept) => { served.push(accept<PeerMessage, PeerMessage>(WELCOME) as WebSocketConnection<PeerMessage, PeerMessage>); },
    });
    cleanups.push(() => listener.close());
    const clients = await Promise.all(Array.from({ length: 3 }, () => client(listener.url)));
    await vi.waitFor(() => expect(served).toHaveLength(3));
    const received = clients.map((conn) => nextMessages(conn, 2));
    const sends = vi.spyOn(WebSocket.prototype, 'send');
    cleanups.push(() => sends.mockRestore());
    // The head's view of the cluster, sent as one object to every node: encoded once, the same
    // frame written to each socket, not one encoding per node.
    const shared = shareFrame(subscribe(7));
    for (const conn of served) conn.send(shared);
    await new Promise((resolve) => setImmediate(resolve));
    const sharedFrames = sends.mock.calls.map((call) => call[0]);
    expect(sharedFrames).toHaveLength(3);
    expect(new Set(sharedFrames).size).toBe(1);
    // A message not shared is encoded by each connection, as before.
    for (const conn of served) conn.send(subscribe(8));
    expect((await Promise.all(received)).map((ms) => ms.map((m) => (m as { objectId: string }).objectId))).toEqual([
      ['obj-7', 'obj-8'], ['obj-7', 'obj-8'], ['obj-7', 'obj-8'],
    ]);
    expect(new Set(sends.mock.calls.slice(3).map((call) => call[0])).size).toBe(3);
  });

  it('round-trips a thousand messages sent in one turn, in order', async () => {
    const { listener } = await echoServer();
    const conn = await client(listener.url);
    const replies = nextMessages(conn, 1000);
    for (let i = 0; i < 1000; i++) conn.send(subscribe(i));
    expect((await replies).map((m) => (m as { objectId: string }).objectId)).toEqual(Array.from({ length: 1000 }, (_, i) => `obj-${i}`));
  });

  it('carries a 10 MB binary field intact both ways', async () => {
    const { listener } = await echoServer();
    const conn = await client(listener.url);
    const data = randomFillSync(new Uint8Array(10 * 1024 * 1024));
    const reply = nextMessages(conn, 1);
    conn.send({ type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: data.length, data });
    const [chunk] = await reply;
    expect(chunk?.type).toBe('object-chunk');
    const back = (chunk as { data: Uint8Array }).data;
    expect(back).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(back, data)).toBe(0);
  });

  it('carries a binary field larger than the frame limit, in parts, intact both ways', async () => {
    const limit = 1024 * 1024;
    const { listener } = await echoServer({ maxPayloadBytes: limit });
    const { conn } = await connectWebSocket<PeerMessage, PeerMessage>({ url: listener.url, token: TOKEN, hello: hello('client'),
      validate: validatePeerMessage, maxPayloadBytes: limit });
    cleanups.push(() => conn.close());
    const data = randomFillSync(new Uint8Array(3 * limit + 12345));
    const reply = nextMessages(conn, 2);
    conn.send({ type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: data.length, data });
    conn.send({ type: 'release-object', objectId: 'after' });
    const [chunk, after] = await reply;
    expect(Buffer.compare((chunk as { data: Uint8Array }).data, data)).toBe(0);
    expect(after).toEqual({ type: 'release-object', objectId: 'after' });
  });

  it('sends a large binary field in 1 MiB frames, which arrive as one shared buffer', async () => {
    const frames: number[] = [];
    const { url, sockets } = await rawServer();
    const conn = await client(url);
    sockets[0]!.on('message', (bytes: Buffer) => frames.push(bytes.length));
    const data = randomFillSync(new Uint8Array(3 * 1024 * 1024 + 5));
    conn.send({ type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: data.length, data });
    while (frames.length < 5) await sleep(1);
    expect(frames.slice(1)).toEqual([1024 * 1024, 1024 * 1024, 1024 * 1024, 5]);
    const { listener } = await echoServer();
    const echo = await client(listener.url);
    const reply = nextMessages(echo, 1);
    echo.send({ type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: data.length, data });
    const back = ((await reply)[0] as { data: Uint8Array }).data;
    expect(back.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.compare(back, data)).toBe(0);
  });

  const garbage = Buffer.from([0xc1, 0xff, 0x00, 0x13]);
  /** A frame of one subscribe-object whose objectId is the raw msgpack `value`. */
  const withValue = (value: number[]): Buffer => Buffer.concat([
    Buffer.from([0x91, 0x82, 0xa4]), Buffer.from('type'), Buffer.from([0xb0]), Buffer.from('subscribe-object'), Buffer.from([0xa8]),
    Buffer.from('objectId'), Buffer.from(value),
  ]);
  const truncated = encodeFrame([subscribe(1), subscribe(2)]).subarray(0, -3);
  it.each([
    ['garbage bytes', garbage, CLOSE_CODES.BAD_FRAME, 'bytes after its message array'],
    ['a truncated msgpack frame', truncated, CLOSE_CODES.BAD_FRAME, 'does not decode as msgpack'],
    ['a text frame', 'hello there', CLOSE_CODES.BAD_FRAME, 'text frame'],
    ['a valid msgpack frame that fails validation', encodeFrame([subscribe(1), { type: 'pull-object', requestId: 'one' }]),
      CLOSE_CODES.BAD_FRAME, 'pull-object.requestId must be an integer >= 0'],
    ['a msgpack frame that is not an array', pack({ type: 'subscribe-object', objectId: 'x' }), CLOSE_CODES.BAD_FRAME, 'not an array'],
    ['a second hello', encodeFrame([hello('again')]), CLOSE_CODES.HANDSHAKE, 'hello came twice'],
    ['an oversized frame', Buffer.alloc(128 * 1024), 1009, 'over the size limit of 65536 bytes'],
    // weft's value extensions are msgpackr's, global: outside a value they must fail, not read memory.
    ['a typed array reference at offset -32', withValue([0xd4, 0x21, 0, 0x92, 0, 0]), CLOSE_CODES.BAD_FRAME, 'corrupt frame'],
    ['an ArrayBuffer reference', withValue([0xd4, 0x22, 0, 0xff]), CLOSE_CODES.BAD_FRAME, 'corrupt frame'],
    ['a malformed ObjectRef', withValue([0xd4, 0x20, 0, 0x05]), CLOSE_CODES.BAD_FRAME, 'corrupt frame'],
    ['a malformed actor handle', withValue([0xd4, 0x23, 0, 0xa1, 0x78]), CLOSE_CODES.BAD_FRAME, 'corrupt frame'],
    // An ObjectRef or actor handle is made only when a value is decoded, never from a message: its constructor has effects (ref counting).
    ['an ObjectRef where an id goes', withValue([0xd4, 0x20, 0, 0xa3, 0x61, 0x62, 0x63]), CLOSE_CODES.BAD_FRAME, 'corrupt frame: an ObjectRef outside a value'],
    ['an actor handle where an id goes', withValue([0xd4, 0x23, 0, 0x92, 0xa1, 0x61, 0xa1, 0x43]), CLOSE_CODES.BAD_FRAME, 'corrupt frame: an actor handle outside a value'],
  ] as Array<[string, Buffer | string, number, string]>)('closes only the connection that sent %s', async (_what, frame, code, reason) => {
    const { listener, closes } = await echoServer({ maxPayloadBytes: 64 * 1024 });
    const good = await client(listener.url);
    const bad = await rawClient(listener.url);
    const closed = closeOf(bad);
    bad.send(frame);
    expect((await closed).code).toBe(code);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toContain(reason);
    // The other connection, and new ones, keep working.
    const reply = nextMessages(good, 1);
    good.send(subscribe(7));
    expect(await reply).toEqual([subscribe(7)]);
    const fresh = await client(listener.url);
    const freshReply = nextMessages(fresh, 1);
    fresh.send(subscribe(8));
    expect(await freshReply).toEqual([subscribe(8)]);
  });

  it('tells the sender of an oversized frame why it was closed', async () => {
    const { listener } = await echoServer({ maxPayloadBytes: 64 * 1024 });
    const conn = await client(listener.url);
    const reason = new Promise<string>((resolve) => conn.onClose(resolve));
    conn.send({ type: 'object-chunk', requestId: 1, objectId: 'o', offset: 0, total: 1, data: new Uint8Array(100_000) });
    expect(await reason).toContain('1009 message too big');
  });

  it('closes the connection instead of throwing when a message cannot be encoded', async () => {
    const { listener } = await echoServer();
    const conn = await client(listener.url);
    const reason = new Promise<string>((resolve) => conn.onClose(resolve));
    conn.send({ type: 'subscribe-object', objectId: Symbol('not sendable') } as unknown as PeerMessage);
    expect(await reason).toContain('cannot encode a message');
  });

  it('calls a close handler set after the connection closed, once', async () => {
    const { listener } = await echoServer();
    const conn = await client(listener.url);
    conn.close('done here');
    const reasons: string[] = [];
    conn.onClose((reason) => reasons.push(reason));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(reasons).toEqual(['done here']);
    conn.send(subscribe(1)); // dropped, no throw
  });
});

describe('WebSocketConnection attachment limits', () => {
  const frameLimit = 64 * 1024;
  const batchLimit = 1024 * 1024;
  const chunkOf = (data: unknown): unknown => ({ type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: 1, data });

  /** A server with small limits, a good client on it, and a raw client to misbehave with. */
  async function setup() {
    const { listener, closes } = await echoServer({ maxPayloadBytes: frameLimit, maxBatchBytes: batchLimit });
    const good = await client(listener.url, { maxPayloadBytes: frameLimit });
    const bad = await rawClient(listener.url);
    return { listener, closes, good, bad, closed: closeOf(bad) };
  }

  /** The good client still gets its echo, and a new client connects. */
  async function othersKeepWorking(url: string, good: WebSocketConnection<PeerMessage, PeerMessage>): Promise<void> {
    const reply = nextMessages(good, 1);
    good.send(subscribe(7));
    expect(await reply).toEqual([subscribe(7)]);
    const fresh = await client(url, { maxPayloadBytes: frameLimit });
    const freshReply = nextMessages(fresh, 1);
    fresh.send(subscribe(8));
    expect(await freshReply).toEqual([subscribe(8)]);
  }

  it('closes a connection whose batch announces more bytes than the batch limit, before any attachment arrives', async () => {
    const { listener, closes, good, bad, closed } = await setup();
    bad.send(pack({ $batch: [chunkOf({ $att: 0 })], $parts: [65_536], $bytes: [4 * 1024 ** 3] }));
    const { code } = await closed;
    expect(code).toBe(CLOSE_CODES.TOO_BIG);
    expect(closes[0]).toContain(`announces 4294967296 bytes of attachments, over the limit of ${batchLimit} bytes`);
    await othersKeepWorking(listener.url, good);
  });

  it('closes a connection once the attachments it sends pass the batch limit (4096 x 65536 parts announced)', async () => {
    const { listener, closes, good, bad, closed } = await setup();
    bad.send(pack({ $batch: [chunkOf({ $att: 0 })], $parts: new Array(4096).fill(65_536) }));
    let sent = 0;
    let open = true;
    void closed.then(() => { open = false; });
    while (open && sent <= 2 * batchLimit) {
      bad.send(Buffer.alloc(frameLimit));
      sent += frameLimit;
      await sleep(1);
    }
    expect((await closed).code).toBe(CLOSE_CODES.TOO_BIG);
    expect(closes[0]).toContain(`over the limit of ${batchLimit} bytes`);
    await othersKeepWorking(listener.url, good);
  });

  it.each([
    ['longer', 100, 200], ['shorter', 60_000, 100],
  ])('closes a connection whose attachment is %s than it announced', async (what, announced, length) => {
    const { listener, closes, good, bad, closed } = await setup();
    bad.send(pack({ $batch: [chunkOf({ $att: 0 })], $parts: [1], $bytes: [announced] }));
    bad.send(Buffer.alloc(length));
    expect((await closed).code).toBe(CLOSE_CODES.BAD_FRAME);
    expect(closes[0]).toContain(`attachment 0 is ${what} than the ${announced} bytes announced`);
    await othersKeepWorking(listener.url, good);
  });

  it.each([
    ['longer', 100, [60, 60]], ['shorter', 100, [60, 30]],
  ])('closes a connection whose attachment in parts is %s than it announced', async (what, announced, lengths) => {
    const { listener, closes, good, bad, closed } = await setup();
    bad.send(pack({ $batch: [chunkOf({ $att: 0 })], $parts: [lengths.length], $bytes: [announced] }));
    for (const length of lengths) bad.send(Buffer.alloc(length));
    expect((await closed).code).toBe(CLOSE_CODES.BAD_FRAME);
    expect(closes[0]).toContain(`attachment 0 is ${what} than the ${announced} bytes announced`);
    await othersKeepWorking(listener.url, good);
  });

  it('writes the parts of an announced attachment at their offsets into one shared buffer of its length', async () => {
    const received: PeerMessage[] = [];
    const listener = await listenWebSocket({
      host: '127.0.0.1', port: 0, token: TOKEN, validateFor: () => validatePeerMessage, maxPayloadBytes: frameLimit,
      onConnection: (_hello, accept) => accept<PeerMessage, PeerMessage>(WELCOME).onMessage((message) => received.push(message)),
    });
    cleanups.push(() => listener.close());
    const raw = await rawClient(listener.url);
    const data = randomFillSync(Buffer.alloc(3 * frameLimit + 123));
    raw.send(pack({ $batch: [chunkOf({ $att: 0 })], $parts: [4], $bytes: [data.length] }));
    for (let at = 0; at < data.length; at += frameLimit) raw.send(data.subarray(at, at + frameLimit));
    while (received.length === 0) await sleep(1);
    const back = (received[0] as { data: Uint8Array }).data;
    expect(back.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([back.byteOffset, back.byteLength]).toEqual([0, data.length]);
    expect(Buffer.compare(back, data)).toBe(0);
  });

  it('refuses announcements that make no sense', async () => {
    for (const header of [{ $parts: [1], $bytes: [-1] }, { $parts: [1], $bytes: [1.5] }, { $parts: [1, 1], $bytes: [10] },
      { $parts: [1], $bytes: [frameLimit + 1] }, { $parts: [0] }, { $parts: [2 ** 20] }]) {
      const { bad, closed, closes } = await setup();
      bad.send(pack({ $batch: [chunkOf({ $att: 0 })], ...header }));
      expect([CLOSE_CODES.BAD_FRAME, CLOSE_CODES.TOO_BIG], JSON.stringify(header)).toContain((await closed).code);
      expect(closes).toHaveLength(1);
    }
  });

  it('sends a message whose attachments together pass the batch limit in batches under it', async () => {
    const { listener } = await echoServer({ maxPayloadBytes: frameLimit, maxBatchBytes: batchLimit });
    const { conn } = await connectWebSocket<PeerMessage, PeerMessage>({ url: listener.url, token: TOKEN, hello: hello('client'),
      validate: validatePeerMessage, maxPayloadBytes: frameLimit, maxBatchBytes: batchLimit });
    cleanups.push(() => conn.close());
    const datas = [0, 1, 2].map(() => randomFillSync(new Uint8Array(batchLimit / 2 + 1000)));
    const reply = nextMessages(conn, 3);
    for (const data of datas) conn.send({ type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: data.length, data });
    const back = await reply;
    back.forEach((message, i) => expect(Buffer.compare((message as { data: Uint8Array }).data, datas[i]!)).toBe(0));
  });
});

describe('WebSocketConnection keepalive', () => {
  const keepalive = { intervalMs: 50, timeoutMs: 300 };
  const KEEPALIVE_REASON = /^no answer from \S+ for 300 ms \(keepalive\)$/;

  it('cuts a client that stops reading, with the keepalive reason, and calls the close handler once', async () => {
    const { listener, closes } = await echoServer({ keepalive });
    const ws = await rawClient(listener.url);
    const pausedAt = performance.now();
    ws.pause(); // reads nothing more, so answers no pings
    await vi.waitFor(() => expect(closes).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(performance.now() - pausedAt).toBeGreaterThan(keepalive.timeoutMs - 2 * keepalive.intervalMs);
    expect(closes[0]).toMatch(KEEPALIVE_REASON);
    expect(closes[0]).toContain(`127.0.0.1:${(ws as unknown as { _socket: Socket })._socket.localPort}`);
    // The socket was cut: once the client reads again it sees the end, and nothing calls the handler again.
    const closed = closeOf(ws);
    ws.resume();
    await closed;
    expect(closes).toHaveLength(1);
  });

  it('cuts a server that stops reading, with the keepalive reason, on the client side', async () => {
    const server = await rawServer();
    const conn = await client(server.url, { keepalive });
    const reasons: string[] = [];
    conn.onClose((reason) => reasons.push(reason));
    server.sockets[0]!.pause();
    await vi.waitFor(() => expect(reasons).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(reasons[0]).toBe(`no answer from ${server.url} for 300 ms (keepalive)`);
    expect(conn.closed).toBe(true);
    const closed = closeOf(server.sockets[0]!);
    server.sockets[0]!.resume();
    await closed;
    expect(reasons).toHaveLength(1);
  });

  it('keeps an idle connection whose peer answers pings open through many timeouts, on both sides', async () => {
    const { listener, closes } = await echoServer({ keepalive });
    const conn = await client(listener.url, { keepalive });
    const raw = await rawClient(listener.url);
    const pings = countPings(raw);
    await sleep(4 * keepalive.timeoutMs);
    expect(closes).toEqual([]);
    expect(conn.closed).toBe(false);
    expect(raw.readyState).toBe(WebSocket.OPEN);
    expect(pings()).toBeGreaterThanOrEqual(keepalive.timeoutMs / keepalive.intervalMs);
    const reply = nextMessages(conn, 1);
    conn.send(subscribe(1));
    expect(await reply).toEqual([subscribe(1)]);
  });

  it('keeps a peer whose large frame is still arriving, and cuts it once the bytes stop', async () => {
    const { listener, closes } = await echoServer({ keepalive });
    const ws = await rawClient(listener.url);
    ws.pause(); // no pongs: only the frame's bytes show the client is alive
    const socket = (ws as unknown as { _socket: Socket })._socket;
    // A masked binary frame of 1 MiB (mask 0, so the payload goes as it is), sent a KiB at a time.
    const header = Buffer.alloc(14);
    header[0] = 0x82;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(1n << 20n, 2);
    socket.write(header);
    const dribble = setInterval(() => socket.write(Buffer.alloc(1024)), 20);
    cleanups.push(() => clearInterval(dribble));
    await sleep(4 * keepalive.timeoutMs);
    expect(closes).toEqual([]);
    clearInterval(dribble);
    await vi.waitFor(() => expect(closes).toHaveLength(1), { timeout: 2_000, interval: 10 });
    expect(closes[0]).toMatch(KEEPALIVE_REASON);
  });

  it('sends no pings and keeps a silent peer when keepalive is false', async () => {
    const { listener, closes } = await echoServer({ keepalive: false });
    const raw = await rawClient(listener.url);
    const pingsToClient = countPings(raw);
    const server = await rawServer();
    const conn = await client(server.url, { keepalive: false });
    // Longer than the default interval, so a default keepalive would have pinged by now.
    await sleep(1.5 * KEEPALIVE_INTERVAL_MS);
    expect(pingsToClient()).toBe(0);
    expect(server.pings()).toBe(0);
    expect(closes).toEqual([]);
    expect(conn.closed).toBe(false);
  });

  it('refuses a keepalive whose timeout does not exceed its interval, naming the option', async () => {
    await expect(listenWebSocket({ host: '127.0.0.1', port: 0, token: TOKEN, validateFor: () => validatePeerMessage, onConnection: () => {},
      keepalive: { intervalMs: 100, timeoutMs: 100 } })).rejects.toThrow(/keepalive\.timeoutMs must be more than keepalive\.intervalMs/);
    await expect(connectWebSocket({ url: 'ws://127.0.0.1:1', token: TOKEN, hello: hello('client'), validate: validatePeerMessage,
      keepalive: { intervalMs: 0, timeoutMs: 100 } })).rejects.toThrow(RangeError);
  });
});
