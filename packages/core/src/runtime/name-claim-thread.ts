/**
 * The helper thread of name-claims.ts: a connection of its own to the driver's node, over which
 * it asks for actor names while the driver's thread waits. Each answer goes on the reply port
 * first, then the waiting thread is woken through the claim's signal.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  PROTOCOL_VERSION, connectWebSocket, randomId, validateNodeMessage, type ClientMessage, type Connection, type NodeMessage,
} from '@weft/protocol';
import type { ClaimAnswer, ClaimRequest, ClaimTarget } from './name-claims.ts';

const { url, token, tlsCa, replies } = workerData as ClaimTarget & { replies: MessagePort };
const waiting = new Map<number, SharedArrayBuffer>();
let nextRequestId = 1;
let connection: Promise<Connection<NodeMessage, ClientMessage>> | undefined;

function answer(signal: SharedArrayBuffer, reply: ClaimAnswer): void {
  replies.postMessage(reply);
  const flag = new Int32Array(signal, 0, 1);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function failAll(reason: string): void {
  for (const signal of waiting.values()) answer(signal, { error: reason });
  waiting.clear();
}

async function connect(): Promise<Connection<NodeMessage, ClientMessage>> {
  const { conn } = await connectWebSocket<NodeMessage, ClientMessage>({
    url, token, target: 'the cluster', validate: validateNodeMessage,
    hello: { type: 'hello', version: PROTOCOL_VERSION, role: 'driver', id: randomId('driver') },
    ...(tlsCa !== undefined ? { tls: { ca: tlsCa } } : {}),
  });
  conn.onMessage((message) => {
    if (message.type !== 'name-claim') return;
    const signal = waiting.get(message.requestId);
    if (!signal) return;
    waiting.delete(message.requestId);
    answer(signal, message.error !== undefined ? { error: message.error } : { claimed: message.claimed });
  });
  conn.onClose((reason) => {
    connection = undefined;
    failAll(`the connection to ${url} closed (${reason})`);
  });
  return conn;
}

parentPort?.on('message', (request: ClaimRequest) => {
  connection ??= connect();
  connection.then((conn) => {
    const requestId = nextRequestId++;
    waiting.set(requestId, request.signal);
    conn.send({ type: 'claim-actor-name', requestId, name: request.name, actorId: request.actorId });
  }, (error: unknown) => {
    connection = undefined;
    answer(request.signal, { error: (error as Error).message });
  });
});
