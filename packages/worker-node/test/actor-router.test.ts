/**
 * Routing a node's actor operations with a fake head (whose answers the test releases), a fake
 * actor manager and a fake peer network that record what they are given. What is asserted: calls
 * made before the actor's node is known wait and leave in submission order; a failed placement or
 * an unknown actor fails them with ActorDiedError; a node's death fails the calls in flight there
 * and holds later ones until the head says where the actor lives now.
 */
import { describe, expect, it } from 'vitest';
import {
  encode, type ActorCallSpec, type ActorLocation, type ActorSpec, type PeerMessage, type Result,
} from '@weft/protocol';
import type { ActorManager } from '../src/actor-manager.ts';
import { ActorRouter, MAX_ROUTES } from '../src/actor-router.ts';
import type { HeadConnection } from '../src/head-connection.ts';
import { ObjectStore } from '../src/object-store.ts';
import type { PeerNetwork } from '../src/peer-network.ts';

const SELF = 'node-aaaaaaaaaaaa';
const OTHER = 'node-bbbbbbbbbbbb';
const THIRD = 'node-cccccccccccc';
const ok = (value: unknown = null): Result => ({ status: 'ok', value: encode(value) });

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const spec = (actorId: string): ActorSpec => ({
  actorId, jobId: 'job-1', cls: { module: 'counter.ts', name: 'Counter' }, args: encode([]), argRefs: [],
  options: { maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1, resources: {}, placement: { CPU: 1 } },
});

const call = (callId: string, actorId = 'a-1', argRefs: Array<[number, string]> = []): ActorCallSpec =>
  ({ callId, actorId, method: 'inc', name: 'Counter.inc', args: encode([]), argRefs });

const location = (actorId: string, nodeId: string, state: ActorLocation['state'] = 'alive'): ActorLocation =>
  ({ actorId, className: 'Counter', nodeId, state });

function setUp() {
  const store = new ObjectStore(SELF);
  const placements: Array<ReturnType<typeof deferred<string>>> = [];
  const finds: Array<{ query: { name?: string; actorId?: string }; answer: ReturnType<typeof deferred<ActorLocation | null>> }> = [];
  const head = {
    placeActor: () => {
      const answer = deferred<string>();
      placements.push(answer);
      return answer.promise;
    },
    findActor: (query: { name?: string; actorId?: string }) => {
      const answer = deferred<ActorLocation | null>();
      finds.push({ query, answer });
      return answer.promise;
    },
    killActor: async () => true,
  } as unknown as HeadConnection;
  const hosted = new Set<string>();
  const local: Array<{ callId: string; owner: string; ownerNode: string | undefined }> = [];
  const manager = {
    has: (actorId: string) => hosted.has(actorId),
    submit: (c: ActorCallSpec, owner: string, ownerNode?: string) => void local.push({ callId: c.callId, owner, ownerNode }),
    kill: () => true,
  } as unknown as ActorManager;
  const sent: Array<{ nodeId: string; message: PeerMessage }> = [];
  const peers = { send: (nodeId: string, message: PeerMessage) => void sent.push({ nodeId, message }) } as unknown as PeerNetwork;
  const router = new ActorRouter(SELF, head, manager, peers, store, (argRefs) => argRefs.map(([, id]) => ({ objectId: id, nodeId: SELF, size: 1 })));
  /** The call ids sent to `nodeId`, in order. */
  const sentTo = (nodeId: string): string[] =>
    sent.flatMap(({ nodeId: to, message }) => (to === nodeId && message.type === 'actor-call' ? [message.call.callId] : []));
  return { store, router, placements, finds, hosted, local, sent, sentTo };
}

describe('the actor router', () => {
  it('holds calls made while the head places the actor, then sends them to its node in submission order', async () => {
    const t = setUp();
    t.router.create(spec('a-1'));
    t.router.submit(call('c-1'), 'driver-1');
    t.router.submit(call('c-2'), 'driver-1');
    expect(t.sent).toEqual([]);
    t.placements[0]?.resolve(OTHER);
    await flush();
    t.router.submit(call('c-3'), 'driver-1');
    expect(t.sentTo(OTHER)).toEqual(['c-1', 'c-2', 'c-3']);
    expect(t.sent[0]?.message).toMatchObject({ type: 'actor-call', owner: SELF });
    // The results come back here, which owns them: their entries exist, held for the caller.
    expect(t.store.get('c-1')?.holders.has('driver-1')).toBe(true);
    expect(t.router.isRemoteCall('c-1')).toBe(true);
  });

  it('gives the calls to the local actor manager, in order, when the head placed the actor on this node', async () => {
    const t = setUp();
    t.router.create(spec('a-1'));
    t.router.submit(call('c-1'), 'driver-1');
    t.placements[0]?.resolve(SELF);
    await flush();
    t.router.submit(call('c-2'), 'driver-1');
    expect(t.local.map((l) => l.callId)).toEqual(['c-1', 'c-2']);
    expect(t.sent).toEqual([]);
  });

  it('fails every call with ActorDiedError when the actor could not be placed', async () => {
    const t = setUp();
    t.router.create(spec('a-1'));
    t.router.submit(call('c-1'), 'driver-1');
    t.placements[0]?.reject(new Error('the name "svc" is taken'));
    await flush();
    t.router.submit(call('c-2'), 'driver-1');
    for (const id of ['c-1', 'c-2']) {
      expect(t.store.get(id)?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/could not be created: the name "svc" is taken/) } });
    }
    expect(t.sent).toEqual([]);
  });

  it('asks the head once where the actor of a handle from elsewhere lives, holding its calls meanwhile', async () => {
    const t = setUp();
    t.router.submit(call('c-1'), 'driver-1');
    t.router.submit(call('c-2'), 'driver-1');
    expect(t.finds.map((f) => f.query)).toEqual([{ actorId: 'a-1' }]);
    t.finds[0]?.answer.resolve(location('a-1', OTHER));
    await flush();
    expect(t.sentTo(OTHER)).toEqual(['c-1', 'c-2']);
  });

  it('sends calls of an actor hosted here to the manager without asking the head', () => {
    const t = setUp();
    t.hosted.add('a-1');
    t.router.submit(call('c-1'), 'driver-1');
    expect(t.finds).toEqual([]);
    expect(t.local.map((l) => l.callId)).toEqual(['c-1']);
  });

  it('fails the calls of an actor the cluster does not know or knows dead', async () => {
    const t = setUp();
    t.router.submit(call('c-1', 'a-unknown'), 'driver-1');
    t.router.submit(call('c-2', 'a-dead'), 'driver-1');
    t.finds[0]?.answer.resolve(null);
    t.finds[1]?.answer.resolve(location('a-dead', OTHER, 'dead'));
    await flush();
    expect(t.store.get('c-1')?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/not known to the cluster/) } });
    expect(t.store.get('c-2')?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/is dead/) } });
  });

  it('asks the head again for a later call after a lookup failed for want of the head, or found the actor unknown (a restarted head may not know it yet)', async () => {
    const t = setUp();
    t.router.submit(call('c-1'), 'driver-1');
    t.finds[0]?.answer.reject(new Error('lost the connection to the head (reset); it is being re-established'));
    await flush();
    expect(t.store.get('c-1')?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/lost the connection to the head/) } });
    t.router.submit(call('c-2'), 'driver-1');
    t.finds[1]?.answer.resolve(null);
    await flush();
    expect(t.store.get('c-2')?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED' } });
    t.router.submit(call('c-3'), 'driver-1');
    expect(t.finds).toHaveLength(3);
    t.finds[2]?.answer.resolve(location('a-1', OTHER));
    await flush();
    expect(t.sentTo(OTHER)).toEqual(['c-3']);
  });

  it('fails at once, without asking again, later calls of an actor the head said is dead', async () => {
    const t = setUp();
    t.router.submit(call('c-1'), 'driver-1');
    t.finds[0]?.answer.resolve(location('a-1', OTHER, 'dead'));
    await flush();
    t.router.submit(call('c-2'), 'driver-1');
    expect(t.finds).toHaveLength(1);
    expect(t.store.get('c-2')?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/is dead/) } });
  });

  it('stores the result of a remote call and unpins its arguments', async () => {
    const t = setUp();
    t.store.addHolder('obj-1', 'driver-1');
    t.store.complete('obj-1', ok(1));
    t.router.create(spec('a-1'));
    t.placements[0]?.resolve(OTHER);
    await flush();
    t.router.submit(call('c-1', 'a-1', [[0, 'obj-1']]), 'driver-1');
    expect(t.store.get('obj-1')?.pins).toBe(1);
    expect(t.sent[0]?.message).toMatchObject({ argLocations: [{ objectId: 'obj-1', nodeId: SELF }] });
    t.router.remoteDone('c-1', ok(42));
    expect(t.store.get('c-1')?.result).toEqual(ok(42));
    expect(t.store.get('obj-1')?.pins).toBe(0);
    expect(t.router.isRemoteCall('c-1')).toBe(false);
  });

  it('fails the calls in flight on a node that died, and sends later calls where the head says the actor lives now', async () => {
    const t = setUp();
    t.router.create(spec('a-1'));
    t.placements[0]?.resolve(OTHER);
    await flush();
    t.router.create(spec('a-2'));
    t.placements[1]?.resolve(THIRD);
    await flush();
    t.router.submit(call('c-1'), 'driver-1');
    t.router.submit(call('c-9', 'a-2'), 'driver-1');
    t.router.nodeDied(OTHER);
    // A call on another node's actor is untouched.
    expect(t.store.get('c-9')?.result).toBeUndefined();
    expect(t.router.isRemoteCall('c-9')).toBe(true);
    expect(t.store.get('c-1')?.result).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/node node-bbbbbbbbbbbb, which hosted the actor, died/) } });
    t.router.submit(call('c-2'), 'driver-1');
    t.router.submit(call('c-3'), 'driver-1');
    expect(t.finds.map((f) => f.query)).toEqual([{ actorId: 'a-1' }]);
    t.finds[0]?.answer.resolve(location('a-1', THIRD, 'restarting'));
    await flush();
    expect(t.sentTo(OTHER)).toEqual(['c-1']);
    expect(t.sentTo(THIRD)).toEqual(['c-9', 'c-2', 'c-3']);
  });

  it('submits a call that another node sent to the local manager, owned by that node', () => {
    const t = setUp();
    t.router.handle(OTHER, { type: 'actor-call', call: call('c-1'), owner: OTHER, argLocations: [] });
    expect(t.local).toEqual([{ callId: 'c-1', owner: `peer:${OTHER}`, ownerNode: OTHER }]);
  });

  it('finds a live actor by name and routes its calls without asking again; a dead one is not found', async () => {
    const t = setUp();
    const found = t.router.find('svc');
    t.finds[0]?.answer.resolve({ ...location('a-1', OTHER), name: 'svc' });
    expect(await found).toEqual({ actorId: 'a-1', className: 'Counter', state: 'alive', name: 'svc' });
    t.router.submit(call('c-1'), 'driver-1');
    expect(t.sentTo(OTHER)).toEqual(['c-1']);
    expect(t.finds).toHaveLength(1);
    const gone = t.router.find('old');
    t.finds[1]?.answer.resolve({ ...location('a-2', OTHER, 'dead'), name: 'old' });
    expect(await gone).toBeNull();
  });
});

describe('the routes a node keeps', () => {
  it('keeps at most MAX_ROUTES, dropping the oldest settled ones (never one with calls waiting); a dropped actor is asked for again', async () => {
    const t = setUp();
    t.router.create(spec('a-waiting')); // its placement never answers: calls wait on its route
    t.router.submit(call('c-w', 'a-waiting'), 'driver-1');
    for (let i = 0; i < MAX_ROUTES + 10; i++) {
      t.router.create(spec(`a-${i}`));
      t.placements.at(-1)?.resolve(OTHER);
    }
    await flush();
    t.router.create(spec('a-last'));
    expect(t.router.routes).toBeLessThanOrEqual(MAX_ROUTES + 1);
    // The oldest settled route went: a call on it asks the head where the actor is.
    t.router.submit(call('c-0', 'a-0'), 'driver-1');
    expect(t.finds.at(-1)?.query).toEqual({ actorId: 'a-0' });
    t.finds.at(-1)?.answer.resolve(location('a-0', THIRD));
    await flush();
    expect(t.sentTo(THIRD)).toEqual(['c-0']);
    // The waiting one kept its route and its call.
    t.placements[0]?.resolve(OTHER);
    await flush();
    expect(t.sentTo(OTHER)).toContain('c-w');
  });
});
