import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE_CODES, PROTOCOL_VERSION, type Hello, type PeerMessage, type Welcome } from '../src/messages.ts';
import { ProtocolError, validatePeerMessage } from '../src/validate.ts';
import { connectWebSocket, type ConnectOptions } from '../src/ws-client.ts';
import { encodeFrame } from '../src/ws-connection.ts';
import { listenWebSocket, type ListenOptions } from '../src/ws-server.ts';

const TOKEN = 'test-token';
const HELLO: Hello = { type: 'hello', version: PROTOCOL_VERSION, role: 'peer', id: 'client' };
const WELCOME: Welcome = { type: 'welcome', version: PROTOCOL_VERSION, id: 'server' };
// A self-signed certificate for 127.0.0.1 and localhost, for these tests only (valid until 2126).
const CERT = `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUEOvaes8hhpmugAI8vA50jo3D8VQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTE0NTMzMFoYDzIxMjYxMTAx
MTQ1MzMwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT1BhGzCJNOswCpRIhx8Mg97FBwic5TnXrucGuCGYoR3A0vG5PqAOwe
yfW38A0YyFWZzmOo1PKWgQyvoC+WM2RCo28wbTAdBgNVHQ4EFgQUz1RV6LipRLPf
R5sJdoJ3TuMC8sgwHwYDVR0jBBgwFoAUz1RV6LipRLPfR5sJdoJ3TuMC8sgwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDRwAwRAIgMNzs7kZzAEsFEzEYkOITM2Kns7zIpboT3CvLX+ZcPj4CIGVe
F9FkfYgkklrguj/1t3bKULfb1+cd25llggKt5ApR
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgX+IgiWYN14dQD97J
9Gd463pH79nNSR1YRLnX5BpFlNGhRANCAAT1BhGzCJNOswCpRIhx8Mg97FBwic5T
nXrucGuCGYoR3A0vG5PqAOweyfW38A0YyFWZzmOo1PKWgQyvoC+WM2RC
-----END PRIVATE KEY-----
`;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server that welcomes every hello (unless told otherwise) and records them. */
async function server(options: Partial<ListenOptions> = {}) {
  const hellos: Hello[] = [];
  const listener = await listenWebSocket({
    host: '127.0.0.1', port: 0, token: TOKEN, validateFor: () => validatePeerMessage,
    onConnection: (hello, accept) => {
      hellos.push(hello);
      accept(WELCOME);
    },
    ...options,
  });
  cleanups.push(() => listener.close());
  return { listener, hellos };
}

async function connect(options: Partial<ConnectOptions<PeerMessage>> & { url: string }) {
  const result = await connectWebSocket<PeerMessage, PeerMessage>({ token: TOKEN, hello: HELLO, validate: validatePeerMessage, ...options });
  cleanups.push(() => result.conn.close());
  return result;
}

function rawSocket(url: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }): WebSocket {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {});
  cleanups.push(() => ws.terminate());
  return ws;
}

async function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  return { code, reason: reason.toString() };
}

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('listenWebSocket and connectWebSocket', () => {
  it('listens on an ephemeral port, welcomes a hello and serves plain HTTP on the same port', async () => {
    const { listener, hellos } = await server({ onHttp: (req, res) => res.end(`state of ${req.url ?? ''}`) });
    expect(listener.port).toBeGreaterThan(0);
    expect(listener.url).toBe(`ws://127.0.0.1:${listener.port}`);
    const { welcome } = await connect({ url: listener.url });
    expect(welcome).toEqual(WELCOME);
    expect(hellos).toEqual([HELLO]);
    const res = await fetch(`http://127.0.0.1:${listener.port}/api/nodes`);
    expect(await res.text()).toBe('state of /api/nodes');
  });

  it('delivers messages the server sends right after the welcome', async () => {
    const { listener } = await server({
      onConnection: (_hello, accept) => accept<PeerMessage, PeerMessage>(WELCOME).send({ type: 'subscribe-object', objectId: 'first' }),
    });
    const { conn } = await connect({ url: listener.url });
    const message = await new Promise<PeerMessage>((resolve) => conn.onMessage(resolve));
    expect(message).toEqual({ type: 'subscribe-object', objectId: 'first' });
  });

  it('refuses a wrong token with a clear error, and a missing one with HTTP 401', async () => {
    const { listener, hellos } = await server();
    await expect(connect({ url: listener.url, token: 'wrong' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED', message: `the cluster refused the token for ${listener.url}: check --token / WEFT_TOKEN`,
    });
    const ws = rawSocket(listener.url, {});
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(401);
    expect(hellos).toEqual([]);
  });

  it('refuses a peer of another protocol version, naming both versions', async () => {
    const { listener, hellos } = await server();
    await expect(connect({ url: listener.url, hello: { ...HELLO, version: 999 } })).rejects.toMatchObject({
      code: 'VERSION', message: `protocol version mismatch: this weft speaks 999, the peer ${PROTOCOL_VERSION}; upgrade both`,
    });
    expect(hellos).toEqual([]);
  });

  it('closes a socket whose first frame is not a hello, or that sends nothing, with the handshake code', async () => {
    const { listener } = await server({ handshakeTimeoutMs: 100 });
    const chatty = rawSocket(listener.url);
    await once(chatty, 'open');
    chatty.send(encodeFrame([{ type: 'subscribe-object', objectId: 'x' }]));
    expect(await closeOf(chatty)).toEqual({ code: CLOSE_CODES.HANDSHAKE, reason: 'the first message must be a hello' });
    const idle = rawSocket(listener.url);
    const started = Date.now();
    expect(await closeOf(idle)).toEqual({ code: CLOSE_CODES.HANDSHAKE, reason: 'no hello within 100 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a hello that onConnection rejects or never accepts, with the reason', async () => {
    const { listener } = await server({
      handshakeTimeoutMs: 100,
      onConnection: (hello) => {
        if (hello.id === 'taken') throw new ProtocolError(`a node with id ${hello.id} is already registered`);
      },
    });
    await expect(connect({ url: listener.url, hello: { ...HELLO, id: 'taken' } })).rejects.toMatchObject({
      code: 'REFUSED', message: expect.stringContaining('a node with id taken is already registered') as string,
    });
    await expect(connect({ url: listener.url })).rejects.toMatchObject({
      code: 'REFUSED', message: expect.stringContaining('hello not accepted within 100 ms') as string,
    });
  });

  it('says the head is not running when nothing listens', async () => {
    const url = `ws://127.0.0.1:${await freePort()}`;
    await expect(connect({ url })).rejects.toMatchObject({
      code: 'UNREACHABLE', message: `cannot reach the head at ${url}: is it running? (ECONNREFUSED)`,
    });
  });

  it('gives up on a server that never answers', async () => {
    const silent: Server = createServer(() => {}).listen(0, '127.0.0.1');
    cleanups.push(() => new Promise((resolve) => silent.close(resolve)));
    await once(silent, 'listening');
    const url = `ws://127.0.0.1:${(silent.address() as { port: number }).port}`;
    silent.on('connection', (socket) => cleanups.push(() => socket.destroy()));
    await expect(connect({ url, handshakeTimeoutMs: 150 })).rejects.toMatchObject({
      code: 'TIMEOUT', message: `no answer from ${url} within 150 ms`,
    });
  });

  it('closes every connection with the going-away code when it closes', async () => {
    const { listener } = await server();
    const { conn } = await connect({ url: listener.url });
    const reason = new Promise<string>((resolve) => conn.onClose(resolve));
    const handshaking = rawSocket(listener.url);
    await once(handshaking, 'open');
    const handshakingClosed = closeOf(handshaking);
    await listener.close();
    expect(await reason).toContain(`${CLOSE_CODES.GOING_AWAY} GOING_AWAY`);
    expect((await handshakingClosed).code).toBe(CLOSE_CODES.GOING_AWAY);
  });

  it('reports a port in use clearly', async () => {
    const { listener } = await server();
    await expect(listenWebSocket({ host: '127.0.0.1', port: listener.port, token: TOKEN, validateFor: () => validatePeerMessage,
      onConnection: () => {} })).rejects.toThrow(`port ${listener.port} on 127.0.0.1 is in use`);
  });

  it('speaks wss with a certificate, and refuses an unknown certificate with a hint', async () => {
    const { listener } = await server({ tls: { cert: CERT, key: KEY } });
    expect(listener.url).toBe(`wss://127.0.0.1:${listener.port}`);
    const { welcome } = await connect({ url: listener.url, tls: { ca: CERT } });
    expect(welcome).toEqual(WELCOME);
    await expect(connect({ url: listener.url })).rejects.toMatchObject({
      code: 'UNREACHABLE', message: expect.stringContaining('pass its certificate as tls.ca') as string,
    });
  });
});
