import { randomFillSync } from 'node:crypto';
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_CODES, PROTOCOL_VERSION, type Hello, type PeerMessage, type Welcome } from '../src/protocol/messages.ts';
import { validatePeerMessage } from '../src/protocol/validate.ts';
import { connectWebSocket } from '../src/protocol/ws-client.ts';
import { decodeFrame, encodeFrame, type WebSocketConnection } from '../src/protocol/ws-connection.ts';
import { listenWebSocket, type ListenOptions } from '../src/protocol/ws-server.ts';

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

async function client(url: string): Promise<WebSocketConnection<PeerMessage, PeerMessage>> {
  const { conn } = await connectWebSocket<PeerMessage, PeerMessage>({ url, token: TOKEN, hello: hello('client'), validate: validatePeerMessage });
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

  const garbage = Buffer.from([0xc1, 0xff, 0x00, 0x13]);
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
