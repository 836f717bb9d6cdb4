/**
 * The node's side of the head's connection, against a fake head on an in-process pair: a burst
 * of actor placements goes as one `place-actors` request (1,000 at most each), and each caller
 * gets its own actor's answer.
 */
import { describe, expect, it } from 'vitest';
import { encode, inProcessPair, type ActorSpec, type HeadToNode, type NodeToHead } from '@weft/protocol';
import { HeadConnection, type HeadHandlers } from '../src/head-connection.ts';

const spec = (actorId: string): ActorSpec => ({
  actorId, jobId: 'job-1', cls: { module: 'm.ts', name: 'A' }, args: encode([]), argRefs: [],
  options: { maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1, resources: {}, placement: { CPU: 1 } },
});

function setUp() {
  const [nodeEnd, headEnd] = inProcessPair<HeadToNode, NodeToHead>();
  const received: NodeToHead[] = [];
  headEnd.onMessage((message) => {
    received.push(message);
    if (message.type !== 'place-actors') return;
    // Odd actors are placed, even ones cannot be.
    const value = message.specs.map((s) => (Number(s.actorId.slice(2)) % 2 === 1 ? { nodeId: `node-${s.actorId}` }
      : { error: { code: 'TASK_UNSCHEDULABLE', message: `no room for ${s.actorId}` } }));
    headEnd.send({ type: 'reply', requestId: message.requestId, result: { status: 'ok', value } });
  });
  const head = new HeadConnection(nodeEnd, { lost: () => {} } as unknown as HeadHandlers);
  return { head, received };
}

describe('HeadConnection.placeActor', () => {
  it('sends the placements of one turn in one request, and answers each caller with its own actor\'s outcome', async () => {
    const { head, received } = setUp();
    const outcomes = await Promise.allSettled(Array.from({ length: 2_500 }, (_, i) => head.placeActor(spec(`a-${i}`), 'node-owner')));
    const requests = received.filter((m) => m.type === 'place-actors');
    expect(requests.map((m) => m.specs.length)).toEqual([1_000, 1_000, 500]);
    expect(requests.every((m) => m.owner === 'node-owner')).toBe(true);
    expect(outcomes[1]).toEqual({ status: 'fulfilled', value: 'node-a-1' });
    expect(outcomes[2_499]).toEqual({ status: 'fulfilled', value: 'node-a-2499' });
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: { code: 'TASK_UNSCHEDULABLE', message: 'no room for a-0' } });
    // A later turn is a request of its own.
    await head.placeActor(spec('a-7'), 'node-owner');
    expect(received.filter((m) => m.type === 'place-actors')).toHaveLength(4);
  });
});

describe('HeadConnection requests', () => {
  it('sends the placements asked before a request ahead of it: a name just claimed is found', async () => {
    const { head, received } = setUp();
    const placed = head.placeActor(spec('a-1'), 'node-owner');
    void head.findActor({ name: 'svc' }).catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(received.map((m) => m.type)).toEqual(['place-actors', 'find-actor']);
    await placed;
  });
});
