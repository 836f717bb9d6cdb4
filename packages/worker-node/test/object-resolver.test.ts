/**
 * Objects between nodes, without processes or ports: each node is its object store, resolver,
 * borrows and peer network, wired as WeftNode wires them, and the networks connect through
 * in-memory pairs. What is asserted is what a change to the transfer or the borrowing would
 * break: the owner frees an object only when neither a borrower nor a local ref holds it,
 * values arrive whole (inline or pulled), a lost connection has its pulls and subscriptions
 * asked again, and an object its owner no longer has fails with ObjectLostError.
 */
import { describe, expect, it } from 'vitest';
import { encode, inProcessPair, type PeerInfo, type PeerMessage, type Result } from '@weft/protocol';
import { Borrows } from '../src/borrows.ts';
import { ObjectResolver, ownValue } from '../src/object-resolver.ts';
import { ObjectStore, type ObjectEntry } from '../src/object-store.ts';
import { PeerNetwork } from '../src/peer-network.ts';

/** Ids name their owner before the slash: `node-a/x` is owned by node-a. */
const ownerOf = (id: string): string | undefined => id.split('/')[0];

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface TestNode {
  readonly id: string;
  readonly store: ObjectStore;
  readonly resolver: ObjectResolver;
  readonly borrows: Borrows;
  readonly peers: PeerNetwork;
  /** Every message this node received, by sender. */
  readonly received: Array<[string, PeerMessage]>;
  /** Drop (and record) the next message of this type that arrives here. */
  dropNext: PeerMessage['type'] | undefined;
  /** Drop (and record) every message that arrives here for which this says true. */
  drop: ((message: PeerMessage) => boolean) | undefined;
  /** The far ends of the connections it accepted, by the node that opened them. */
  readonly accepted: Map<string, Array<{ close(reason?: string): void }>>;
}

function cluster(...ids: string[]): Record<string, TestNode> {
  const nodes: Record<string, TestNode> = {};
  const infos: PeerInfo[] = ids.map((nodeId) => ({ nodeId, address: `ws://${nodeId}:1`, resources: { CPU: 1 } }));
  for (const id of ids) {
    const store = new ObjectStore(id, ownerOf);
    const received: Array<[string, PeerMessage]> = [];
    const node = { id, store, received, dropNext: undefined, drop: undefined, accepted: new Map() } as unknown as TestNode;
    const peers = new PeerNetwork(id, async (_address, to) => {
      const [near, far] = inProcessPair<PeerMessage, PeerMessage>();
      const other = nodes[to] as TestNode;
      other.peers.accept(id, far);
      other.accepted.set(id, [...(other.accepted.get(id) ?? []), far]);
      return near;
    }, {
      message: (from, message) => {
        received.push([from, message]);
        if (node.dropNext === message.type) {
          node.dropNext = undefined;
          return;
        }
        if (node.drop?.(message)) return;
        if (message.type === 'borrow-ack') node.borrows.acked(message.requestId, message.missing);
        else node.resolver.handle(from, message);
      },
      // As PeerHandler.disconnected does for these two.
      disconnected: (nodeId) => {
        node.resolver.reissue(nodeId);
        node.borrows.reissue(nodeId);
      },
      unreachable: () => {},
    });
    Object.assign(node, { peers, resolver: new ObjectResolver(id, store, peers), borrows: new Borrows(store, peers) });
    // As WeftNode wires them (node.ts).
    store.fetch = (entry) => node.resolver.fetch(entry);
    store.onComplete = (entry) => node.resolver.notify(entry);
    store.onBorrow = (entry) => node.borrows.borrow(entry);
    store.onUnborrow = (entry) => peers.send(entry.owner as string, { type: 'release-object', objectId: entry.id });
    store.onFree = (entry) => {
      if (entry.owner !== undefined && entry.borrowed) peers.send(entry.owner, { type: 'release-object', objectId: entry.id });
      if (entry.location && entry.location.nodeId !== id) peers.send(entry.location.nodeId, { type: 'release-object', objectId: entry.id });
    };
    peers.setPeers(infos);
    nodes[id] = node;
  }
  return nodes;
}

/** Nodes node-a and node-b, connected. */
function twoNodes(): [TestNode, TestNode] {
  const nodes = cluster('node-a', 'node-b');
  return [nodes['node-a'] as TestNode, nodes['node-b'] as TestNode];
}

const ok = (value: unknown): Result => ({ status: 'ok', value: encode(value) });
/** A value whose frame is at least 100 KiB: served by location and pulled, not sent inline. */
const big = (): Result => ok(new Uint8Array(300 * 1024).fill(7));

/** `node` puts `id` (which it owns), held by its driver. */
function put(node: TestNode, id: string, result: Result): void {
  node.store.addHolder(id, 'driver');
  node.store.complete(id, result);
}

/** A client of `node` waits for the object `id`; resolves with its result. */
function need(node: TestNode, id: string): Promise<Result | undefined> {
  return new Promise((resolve) => node.store.onResult(node.store.ensure(id), (entry: ObjectEntry) => resolve(entry.result)));
}

const sentTypes = (node: TestNode, type: PeerMessage['type']): number => node.received.filter(([, m]) => m.type === type).length;

describe('borrowing', () => {
  it('keeps an owned object while another node borrows it, and frees it once the borrower and the local ref are both gone', async () => {
    const [a, b] = twoNodes();
    put(a!, 'node-a/x', ok(1));
    b.store.addHolder('node-a/x', 'worker-b1'); // a worker on b holds a ref
    await flush();
    expect(a.store.get('node-a/x')?.holders).toEqual(new Set(['driver', 'peer:node-b']));
    a.store.removeHolder('node-a/x', 'driver');
    expect(a.store.get('node-a/x')).toBeDefined();
    b.store.removeHolder('node-a/x', 'worker-b1');
    await flush();
    expect(a.store.get('node-a/x')).toBeUndefined();
  });

  it('keeps it while the owner\'s own ref lives, after the borrower released', async () => {
    const [a, b] = twoNodes();
    put(a!, 'node-a/x', ok(1));
    b.store.addHolder('node-a/x', 'worker-b1');
    await flush();
    b.store.removeHolder('node-a/x', 'worker-b1');
    await flush();
    expect(a.store.get('node-a/x')?.holders).toEqual(new Set(['driver']));
    a.store.removeHolder('node-a/x', 'driver');
    expect(a.store.get('node-a/x')).toBeUndefined();
  });

  it('registers once per object and owner, in one message for the refs taken in one turn', async () => {
    const [a, b] = twoNodes();
    put(a!, 'node-a/x', ok(1));
    put(a!, 'node-a/y', ok(2));
    b.store.addHolder('node-a/x', 'worker-b1');
    b.store.addHolder('node-a/x', 'worker-b2');
    b.store.pin(['node-a/y'], true); // a value stored on b contains a ref to y
    b.store.pin(['node-a/x']); // a task's argument: its owner keeps it, no borrow
    await flush();
    const borrows = a.received.filter(([, m]) => m.type === 'borrow-objects').map(([, m]) => (m.type === 'borrow-objects' ? m.objectIds : []));
    expect(borrows).toEqual([['node-a/x', 'node-a/y']]);
    // Later refs go in a message of their own; another node's hold on b (it pulls from b) makes b no borrower.
    put(a!, 'node-a/z', ok(3));
    b.store.addHolder('node-a/q', 'peer:node-c');
    b.store.addHolder('node-a/z', 'worker-b1');
    await flush();
    const later = a.received.filter(([, m]) => m.type === 'borrow-objects').map(([, m]) => (m.type === 'borrow-objects' ? m.objectIds : []));
    expect(later).toEqual([['node-a/x', 'node-a/y'], ['node-a/z']]);
  });

  it('settles once the borrows asked for so far are acknowledged, or their owner died; a later unanswered borrow does not delay it', async () => {
    const [a, b] = twoNodes();
    put(a!, 'node-a/x', ok(1));
    put(a!, 'node-a/y', ok(2));
    a.drop = (m) => m.type === 'borrow-objects' && m.objectIds.includes('node-a/y'); // the owner never answers for y
    const done: string[] = [];
    b.store.addHolder('node-a/x', 'worker-b1');
    void b.borrows.settled().then(() => done.push('x settled'));
    b.store.addHolder('node-a/y', 'worker-b1');
    await flush();
    expect(done).toEqual(['x settled']);
    void b.borrows.settled().then(() => done.push('y settled'));
    await flush();
    expect(done).toEqual(['x settled']);
    // The owner's node dies: its borrows will never be answered.
    b.borrows.nodeDied('node-a');
    await flush();
    expect(done).toEqual(['x settled', 'y settled']);
  });

  it('does not settle, for a borrow asked for in this turn, before the owner answers', async () => {
    const [a, b] = twoNodes();
    put(a!, 'node-a/x', ok(1));
    a.drop = (m) => m.type === 'borrow-objects';
    b.store.addHolder('node-a/x', 'worker-b1');
    let settled = false;
    void b.borrows.settled().then(() => { settled = true; });
    await flush();
    expect(settled).toBe(false);
  });

  it('asks again over a new connection for a borrow whose message was lost when the last connection closed', async () => {
    const [a, b] = twoNodes();
    put(a, 'node-a/x', ok(1));
    a.dropNext = 'borrow-objects'; // lost with the connection
    b.store.addHolder('node-a/x', 'worker-b1');
    let settled = false;
    void b.borrows.settled().then(() => { settled = true; });
    await flush();
    for (const conn of a.accepted.get('node-b') ?? []) conn.close('keepalive timeout');
    await flush();
    expect(settled).toBe(true);
    // The owner holds it for b: its own ref going does not free it.
    a.store.removeHolder('node-a/x', 'driver');
    expect(a.store.get('node-a/x')?.holders).toEqual(new Set(['peer:node-b']));
  });

  it('does not ask again for a lost borrow of an object this node no longer refers to, so the owner can free it', async () => {
    const [a, b] = twoNodes();
    put(a, 'node-a/x', ok(1));
    a.dropNext = 'borrow-objects';
    b.store.addHolder('node-a/x', 'worker-b1');
    await flush();
    b.store.removeHolder('node-a/x', 'worker-b1');
    let settled = false;
    void b.borrows.settled().then(() => { settled = true; });
    for (const conn of a.accepted.get('node-b') ?? []) conn.close('keepalive timeout');
    await flush();
    expect(settled).toBe(true);
    expect(sentTypes(a, 'borrow-objects')).toBe(1);
    a.store.removeHolder('node-a/x', 'driver');
    expect(a.store.get('node-a/x')).toBeUndefined();
  });

  it('fails with ObjectLostError a borrowed object its owner had freed before the borrow arrived', async () => {
    const [a, b] = twoNodes();
    b.store.addHolder('node-a/gone', 'worker-b1');
    await flush();
    expect(a.store.get('node-a/gone')).toBeUndefined();
    expect(b.store.get('node-a/gone')?.result).toMatchObject({ status: 'error', error: { code: 'OBJECT_LOST', message: expect.stringMatching(/had freed it/) } });
    expect(b.store.get('node-a/gone')?.borrowed).toBe(false);
  });
});

describe('bringing values to the node that needs them', () => {
  it('subscribes at the owner and gets a small value inline once it is ready; the owner holds it for the subscriber', async () => {
    const [a, b] = twoNodes();
    a.store.addHolder('node-a/x', 'driver'); // pending: its task runs on a
    const got = need(b!, 'node-a/x');
    await flush();
    expect(a.store.get('node-a/x')?.holders.has('peer:node-b')).toBe(true);
    a.store.complete('node-a/x', ok('hello'));
    expect(await got).toEqual(ok('hello'));
    expect(sentTypes(a!, 'pull-object')).toBe(0);
  });

  it('pulls a large value from where it is, byte for byte', async () => {
    const [a, b] = twoNodes();
    const value = big();
    put(a!, 'node-a/big', value);
    const got = await need(b!, 'node-a/big');
    expect(sentTypes(a!, 'pull-object')).toBeGreaterThan(0);
    expect(got?.status === 'ok' && Buffer.from(got.value.data).equals(Buffer.from(value.status === 'ok' ? value.value.data : []))).toBe(true);
  });

  it('fails with the owner\'s ObjectLostError an object the owner freed', async () => {
    const [, b] = twoNodes();
    const got = await need(b!, 'node-a/freed');
    expect(got).toMatchObject({ status: 'error', error: { code: 'OBJECT_LOST', message: expect.stringMatching(/not on node node-a any more/) } });
  });

  it('asks again over a new connection for a pull whose answer was lost when the last connection closed', async () => {
    const [a, b] = twoNodes();
    put(a!, 'node-a/big', big());
    a.dropNext = 'pull-object';
    const got = need(b!, 'node-a/big');
    await flush();
    expect(b.store.get('node-a/big')?.result).toBeUndefined();
    for (const conn of a.accepted.get('node-b') ?? []) conn.close('keepalive timeout');
    expect((await got)?.status).toBe('ok');
    expect(sentTypes(a!, 'pull-object')).toBe(2);
  });

  it('subscribes again over a new connection when the subscription was lost with the last connection', async () => {
    const [a, b] = twoNodes();
    a.store.addHolder('node-a/x', 'driver');
    a.dropNext = 'subscribe-object';
    const got = need(b!, 'node-a/x');
    await flush();
    for (const conn of a.accepted.get('node-b') ?? []) conn.close('reset');
    await flush();
    a.store.complete('node-a/x', ok(3));
    expect(await got).toEqual(ok(3));
    expect(sentTypes(a!, 'subscribe-object')).toBe(2);
  });

  it('when a node dies, rebuilds what can be rebuilt of what only it held, and fails the rest and what it owned', async () => {
    const [a, b] = twoNodes();
    // b owns z and w, made by tasks that ran on node-c, whose results stayed there.
    for (const id of ['node-b/z', 'node-b/w']) {
      b.store.addHolder(id, 'driver');
      b.store.located(b.store.ensure(id), { objectId: id, nodeId: 'node-c', size: 500_000 });
    }
    a.store.addHolder('node-a/x', 'driver');
    const x = need(b!, 'node-a/x');
    await flush();
    const rebuilt: string[] = [];
    const rebuild = (entry: ObjectEntry): boolean => {
      rebuilt.push(entry.id);
      return entry.id === 'node-b/z';
    };
    b.resolver.nodeDied('node-c', rebuild);
    expect(rebuilt).toEqual(['node-b/z', 'node-b/w']);
    expect(b.store.get('node-b/z')?.result).toBeUndefined();
    expect(b.store.get('node-b/w')?.result).toMatchObject({ status: 'error', error: { code: 'OBJECT_LOST', message: expect.stringMatching(/its only copy/) } });
    b.resolver.nodeDied('node-a', rebuild);
    expect(rebuilt).toHaveLength(2); // x's owner died; its bytes were never on a node it could rebuild from
    expect(await x).toMatchObject({ status: 'error', error: { code: 'OBJECT_LOST', message: expect.stringMatching(/node node-a, which held it \(its owner\), died/) } });
  });
});

describe('ownValue', () => {
  it('keeps shared memory at the start of its buffer (what the transport wrote a large attachment into), even when the buffer is longer', () => {
    const placed = new Uint8Array(new SharedArrayBuffer(2 * 1024 * 1024), 0, 1024 * 1024 + 7);
    expect(ownValue({ data: placed }).data).toBe(placed);
  });

  it('copies a large view of a network frame into shared memory, and keeps a small field that owns its buffer', () => {
    const frame = Buffer.alloc(1024 * 1024);
    const view = frame.subarray(10, 512 * 1024);
    const owned = ownValue({ data: view }).data;
    expect(owned).not.toBe(view);
    expect(owned.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(owned).equals(view)).toBe(true);
    const small = new Uint8Array(100);
    expect(ownValue({ data: small }).data).toBe(small);
  });
});
