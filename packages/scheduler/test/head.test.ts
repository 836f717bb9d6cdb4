/**
 * The head's membership and actor authority, driven through in-process connections that stand
 * for nodes: fencing of nodes it declared dead, the one restart count of an actor, reports from
 * nodes an actor no longer lives on, kills, and the bounded history of dead nodes.
 */
import { describe, expect, it } from 'vitest';
import { inProcessPair, type ActorPlacement, type ActorSpec, type ErrorPayload, type Connection, type HeadToNode, type NodeToHead, type PeerInfo } from '@weft/protocol';
import { Head } from '../src/head.ts';
import { MAX_DEAD_NODES } from '../src/node-registry.ts';

/** What a one-actor `place-actors` reply says: its node, or the error payload. */
const placedOn = (reply: unknown): string | ErrorPayload | undefined => {
  const [placement] = reply as ActorPlacement[];
  return placement && ('nodeId' in placement ? placement.nodeId : placement.error);
};

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A node as the head sees it: what it sent, and a way to send. */
class FakeNode {
  readonly received: HeadToNode[] = [];
  readonly conn: Connection<HeadToNode, NodeToHead>;
  #nextRequestId = 1;
  constructor(head: Head, readonly info: PeerInfo) {
    const [nodeEnd, headEnd] = inProcessPair<HeadToNode, NodeToHead>();
    head.attach(headEnd);
    this.conn = nodeEnd;
    nodeEnd.onMessage((message) => {
      this.received.push(message);
      // Answer the head's kills, as a node does.
      if (message.type === 'kill-actor') nodeEnd.send({ type: 'reply', requestId: message.requestId, result: { status: 'ok', value: true } });
    });
  }

  async register(headId?: string): Promise<void> {
    this.conn.send(headId === undefined ? { type: 'register-node', node: this.info } : { type: 'register-node', node: this.info, headId });
    await flush();
  }

  /** Send a request and resolve with the value of the head's reply. */
  async request(make: (requestId: number) => NodeToHead): Promise<unknown> {
    const requestId = this.#nextRequestId++;
    this.conn.send(make(requestId));
    for (let i = 0; i < 20; i++) {
      await flush();
      const reply = this.received.find((m) => m.type === 'reply' && m.requestId === requestId);
      if (reply?.type === 'reply') return reply.result.status === 'ok' ? reply.result.value : reply.result.error;
    }
    throw new Error(`no reply to request ${requestId}`);
  }

  last<T extends HeadToNode['type']>(type: T): Extract<HeadToNode, { type: T }> | undefined {
    return this.received.filter((m): m is Extract<HeadToNode, { type: T }> => m.type === type).at(-1);
  }
}

const node = (nodeId: string): PeerInfo => ({ nodeId, address: `ws://10.0.0.${nodeId.length}:1`, resources: { CPU: 2 } });

function actorSpec(actorId: string, maxRestarts: number): ActorSpec {
  return {
    actorId, jobId: 'job-1', cls: { module: 'counter.ts', name: 'Counter' }, args: { data: new Uint8Array(1) }, argRefs: [],
    options: { maxRestarts, maxTaskRetries: 0, maxConcurrency: 1, resources: {}, placement: { CPU: 1 } },
  };
}

describe('the head', () => {
  it('tells a node it declared dead that comes back under its old id that it is fenced, and ignores what it reports', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    await a.register();
    const registered = a.last('registered');
    expect(registered).toMatchObject({ nodeId: 'node-a', headId: head.headId, deathTimeoutMs: 4500 });
    a.conn.close('link cut');
    await flush();
    expect(head.nodes.get('node-a')?.alive).toBe(false);

    const back = new FakeNode(head, node('node-a'));
    await back.register(head.headId);
    expect(back.last('fenced')).toMatchObject({ nodeId: 'node-a' });
    expect(back.last('fenced')?.reason).toMatch(/declared it dead .*link cut/);
    expect(back.last('registered')).toBeUndefined();
    back.conn.send({ type: 'actor-state', actorId: 'a-1', className: 'Counter', state: 'alive', nodeId: 'node-a' });
    back.conn.send({ type: 'heartbeat', available: { CPU: 2 }, stats: { objects: 0, objectBytes: 0, workers: 1, actors: 1, queued: 0, running: 0 } });
    expect(await back.request((requestId) => ({ type: 'find-actor', requestId, actorId: 'a-1' }))).toMatchObject({ code: 'NODE_DIED' });
    expect(head.actors.all()).toEqual([]);
    expect(head.nodes.get('node-a')?.alive).toBe(false);
  });

  it('takes back, with its actors, a node that was registered with another head instance (the head restarted)', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    await a.register('head-before-the-restart');
    expect(a.last('registered')).toBeDefined();
    a.conn.send({ type: 'actor-state', actorId: 'a-1', className: 'Counter', state: 'alive', nodeId: 'node-a', name: 'svc',
      spec: actorSpec('a-1', 3), owner: 'node-a', restarts: 2 });
    await flush();
    expect(head.actors.find({ name: 'svc' })).toMatchObject({ actorId: 'a-1', nodeId: 'node-a', state: 'alive' });
    expect(head.actors.get('a-1')?.restarts).toBe(2);
  });

  it('counts worker deaths and node deaths against one maxRestarts', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    const b = new FakeNode(head, node('node-bb'));
    await a.register();
    await b.register();
    expect(await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [actorSpec('a-1', 2)], owner: 'node-a' })).then(placedOn)).toMatch(/^node-/);
    const host = head.actors.get('a-1')?.location.nodeId === 'node-a' ? a : b;
    const other = host === a ? b : a;
    // A worker death on its node: restart 1.
    expect(await host.request((requestId) => ({ type: 'restart-actor', requestId, actorId: 'a-1', cause: 'exit 1' }))).toBe(1);
    // Its node dies: restart 2, on the other node.
    host.conn.close('killed');
    await flush();
    expect(other.last('host-actor')).toMatchObject({ spec: { actorId: 'a-1' }, restarts: 2 });
    expect(head.actors.get('a-1')?.location).toMatchObject({ nodeId: other.info.nodeId, state: 'restarting' });
    // Another worker death there: no restarts left.
    expect(await other.request((requestId) => ({ type: 'restart-actor', requestId, actorId: 'a-1', cause: 'exit 1' }))).toBeNull();
    expect(head.actors.get('a-1')?.location.state).toBe('dead');
  });

  it('ignores the report of an actor from a node it no longer lives on, so it is never listed alive twice', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    await a.register();
    await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [actorSpec('a-1', -1)], owner: 'node-a' })).then(placedOn);
    const b = new FakeNode(head, node('node-bb'));
    await b.register();
    // node-a is declared dead (missed heartbeats), the actor restarts on node-bb, which reports it alive.
    a.conn.close('missed heartbeats');
    await flush();
    expect(b.last('host-actor')?.spec.actorId).toBe('a-1');
    b.conn.send({ type: 'actor-state', actorId: 'a-1', className: 'Counter', state: 'alive', nodeId: 'node-bb' });
    // A late report from node-a, on a connection that was still open.
    const late = new FakeNode(head, node('node-a'));
    late.conn.send({ type: 'actor-state', actorId: 'a-1', className: 'Counter', state: 'alive', nodeId: 'node-a' });
    await flush();
    expect(head.actors.all().filter((actor) => actor.actorId === 'a-1')).toEqual([expect.objectContaining({ nodeId: 'node-bb', state: 'alive' })]);
  });

  it('kills an actor for good through its node, and answers at once for one whose node died', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    await a.register();
    await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [actorSpec('a-1', -1)], owner: 'node-a' })).then(placedOn);
    expect(await a.request((requestId) => ({ type: 'kill-actor', requestId, actorId: 'a-1' }))).toBe(true);
    expect(a.last('kill-actor')?.actorId).toBe('a-1');
    expect(head.actors.get('a-1')?.location.state).toBe('dead');
    expect(await a.request((requestId) => ({ type: 'kill-actor', requestId, actorId: 'a-1' }))).toBe(false);
    expect(await a.request((requestId) => ({ type: 'kill-actor', requestId, actorId: 'never-was' }))).toBe(false);
  });

  it('keeps the live nodes and only the last few dead ones', async () => {
    const head = new Head();
    const nodes = Array.from({ length: MAX_DEAD_NODES + 5 }, (_, i) => new FakeNode(head, node(`node-${i}`)));
    for (const n of nodes) await n.register();
    const survivor = new FakeNode(head, node('node-alive'));
    await survivor.register();
    for (const n of nodes) n.conn.close('node stopping');
    await flush();
    const all = head.nodes.all();
    expect(all.filter((n) => n.alive).map((n) => n.nodeId)).toEqual(['node-alive']);
    expect(all.filter((n) => !n.alive)).toHaveLength(MAX_DEAD_NODES);
    expect(all.filter((n) => !n.alive).map((n) => n.nodeId)).toContain(`node-${MAX_DEAD_NODES + 4}`);
  });
});

describe('the head placing what nodes cannot run themselves', () => {
  const spillable = (taskId: string, resources: Record<string, number> = { CPU: 1 }) => ({
    taskId, jobId: 'job-1', fn: { module: 'tasks.ts', name: 'f' }, name: 'f', args: { data: new Uint8Array(1) }, argRefs: [], resources,
    maxRetries: 0, retryExceptions: false,
  });

  it('sends a spilled task to the node holding most of its argument bytes, tells the spiller where, and refuses what no node could run', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    const b = new FakeNode(head, node('node-bb'));
    const c = new FakeNode(head, node('node-ccc'));
    for (const n of [a, b, c]) await n.register();
    const argLocations = [{ objectId: 'o-1', nodeId: 'node-ccc', size: 5_000_000 }, { objectId: 'o-2', nodeId: 'node-bb', size: 1_000 }];
    a.conn.send({ type: 'spill-task', task: spillable('t-1'), owner: 'node-a', argLocations });
    await flush();
    expect(c.last('run-task')).toMatchObject({ task: { taskId: 't-1' }, owner: 'node-a', argLocations });
    expect(b.last('run-task')).toBeUndefined();
    expect(a.last('task-placed')).toEqual({ type: 'task-placed', taskId: 't-1', nodeId: 'node-ccc' });
    a.conn.send({ type: 'spill-task', task: spillable('t-2', { CPU: 1, gpu: 1 }), owner: 'node-a', argLocations: [] });
    await flush();
    expect(a.last('spill-failed')).toMatchObject({ taskId: 't-2', error: { code: 'TASK_UNSCHEDULABLE' } });
  });

  it('frees the name of an actor it could not place, so that a later actor can take it', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    await a.register();
    const named = (actorId: string, placement: Record<string, number>): ActorSpec => {
      const spec = actorSpec(actorId, 0);
      return { ...spec, options: { ...spec.options, name: 'svc', placement } };
    };
    expect(await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [named('a-gpu', { gpu: 1 })], owner: 'node-a' })).then(placedOn))
      .toMatchObject({ code: 'TASK_UNSCHEDULABLE' });
    expect(await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [named('a-1', { CPU: 1 })], owner: 'node-a' })).then(placedOn)).toBe('node-a');
    expect(await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [named('a-2', { CPU: 1 })], owner: 'node-a' })).then(placedOn))
      .toMatchObject({ code: 'ACTOR_DIED', message: expect.stringMatching(/the name 'svc' is taken/) });
  });

  it('records dead, and frees the name of, an actor whose node died with no restarts left; one with restarts goes to another node', async () => {
    const head = new Head();
    const a = new FakeNode(head, node('node-a'));
    const b = new FakeNode(head, node('node-bb'));
    await a.register();
    const spec = actorSpec('a-0', 0);
    expect(await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [{ ...spec, options: { ...spec.options, name: 'svc' } }], owner: 'node-a' })).then(placedOn)).toBe('node-a');
    expect(await a.request((requestId) => ({ type: 'place-actors', requestId, specs: [actorSpec('a-1', 1)], owner: 'node-a' })).then(placedOn)).toBe('node-a');
    await b.register();
    a.conn.close('killed');
    await flush();
    expect(head.actors.get('a-0')?.location.state).toBe('dead');
    expect(head.actors.find({ name: 'svc' })).toBeNull();
    expect(b.last('host-actor')).toMatchObject({ spec: { actorId: 'a-1' }, owner: 'node-a', restarts: 1 });
    expect(head.actors.get('a-1')?.location).toMatchObject({ nodeId: 'node-bb', state: 'restarting' });
  });
});
