import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PortConnection } from '../src/connection.ts';
import type { ClientMessage, NodeMessage } from '../src/messages.ts';
import { validateClientMessage } from '../src/validate.ts';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const channel of channels.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

/** The node's end of a worker's port (validating), and the raw port the "worker" posts on. */
function workerPort(onMessage: (message: ClientMessage) => void) {
  const channel = new MessageChannel();
  channels.push(channel);
  const node = new PortConnection<ClientMessage, NodeMessage>(channel.port1, { validate: validateClientMessage, remote: 'worker-test' });
  node.onMessage(onMessage);
  return channel.port2;
}

const ready = (workerId: string): ClientMessage => ({ type: 'worker-ready', workerId });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

describe('PortConnection from a worker', () => {
  it('drops malformed messages and batches from a worker, and delivers the good ones around them', async () => {
    const received: ClientMessage[] = [];
    const port = workerPort((message) => received.push(message));
    port.postMessage('not a batch');
    port.postMessage({ type: 'worker-ready', workerId: 'worker-1' });
    port.postMessage([ready('worker-a'), { type: 'submit-task', task: 5 }, { type: 'task-done', taskId: '../x', result: {} }, null, ready('worker-b')]);
    port.postMessage(null);
    port.postMessage([ready('worker-c')]);
    await settle();
    expect(received).toEqual([ready('worker-a'), ready('worker-b'), ready('worker-c')]);
  });

  it('keeps delivering after the handler throws on a message', async () => {
    const received: string[] = [];
    const port = workerPort((message) => {
      if (message.type === 'worker-ready' && message.workerId === 'worker-boom') throw new Error('handler bug');
      if (message.type === 'worker-ready') received.push(message.workerId);
    });
    port.postMessage([ready('worker-boom'), ready('worker-after')]);
    port.postMessage([ready('worker-next')]);
    await settle();
    expect(received).toEqual(['worker-after', 'worker-next']);
  });
});
