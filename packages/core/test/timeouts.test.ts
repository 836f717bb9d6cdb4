import { afterEach, describe, expect, it } from 'vitest';
import { get, wait } from '../src/api.ts';
import {
  encode, ObjectRef, inProcessPair, validateClientMessage, ClientRuntime, setRuntime, type ClientMessage,
  type NodeMessage,
} from '@weft/protocol';

/** A runtime whose node is this test: what the driver sends is recorded (and validated as a node would). */
function fakeNode() {
  const [clientEnd, nodeEnd] = inProcessPair<NodeMessage, ClientMessage>();
  const received: ClientMessage[] = [];
  nodeEnd.onMessage((message) => received.push(validateClientMessage(message)));
  const runtime = new ClientRuntime(clientEnd, { nodeId: 'node-aaaaaaaaaaaa', workerId: 'driver-1', jobId: 'job-1', workingDir: process.cwd() });
  setRuntime(runtime);
  return { runtime, nodeEnd, received };
}

afterEach(() => setRuntime(undefined));

describe('timeouts without a limit', () => {
  it('sends wait with timeoutMs Infinity as no limit, which the node accepts', async () => {
    const { nodeEnd, received } = fakeNode();
    const ref = new ObjectRef('obj-1');
    const waiting = wait([ref], { timeoutMs: Infinity });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const message = received.find((m) => m.type === 'wait-objects') as Extract<ClientMessage, { type: 'wait-objects' }>;
    expect(message.timeoutMs).toBeNull();
    nodeEnd.send({ type: 'wait-result', requestId: message.requestId, readyIds: ['obj-1'] });
    expect((await waiting).ready).toEqual([ref]);
  });

  it('does not time out a get with timeoutMs Infinity (a timer of Infinity fires at once)', async () => {
    const { nodeEnd, received } = fakeNode();
    const getting = get(new ObjectRef('obj-1'), { timeoutMs: Infinity });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const message = received.find((m) => m.type === 'get-objects') as Extract<ClientMessage, { type: 'get-objects' }>;
    nodeEnd.send({ type: 'objects', requestId: message.requestId, results: [{ status: 'ok', value: encode(42) }] });
    expect(await getting).toBe(42);
  });
});
