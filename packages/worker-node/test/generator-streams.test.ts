import { describe, expect, it } from 'vitest';
import { encode, nextId, ownerOf, yieldId, type NodeMessage, type PeerMessage, type Result } from '@weft/protocol';
import { GeneratorStreams } from '../src/generator-streams.ts';
import { ObjectStore } from '../src/object-store.ts';

const SELF = 'node-aaaaaaaaaaaa';
const OTHER = 'node-bbbbbbbbbbbb';
const ok = (value: unknown): Result => ({ status: 'ok', value: encode(value) });

/** A store wired to the streams as a node wires them, a driver client, and what the streams did. */
function setup() {
  const store = new ObjectStore(SELF, ownerOf);
  const sent: NodeMessage[] = [];
  const forwarded: PeerMessage[] = [];
  const released: Array<[to: string, objectId: string, afterBorrows: boolean]> = [];
  const waits = { blocked: 0, unblocked: 0 };
  const streams = new GeneratorStreams(store, {
    blocked: () => { waits.blocked += 1; },
    unblocked: () => { waits.unblocked += 1; },
    forward: (entry, _owner, message) => { if (entry.result?.status === 'ok') forwarded.push(message(entry.result)); },
    spilledYield: () => {},
    release: (to, objectId, afterBorrows) => { released.push([to, objectId, afterBorrows]); },
  });
  store.onComplete = (entry) => streams.completed(entry);
  store.onFree = (entry) => streams.freed(entry);
  const client = { id: 'driver-1', send: (message: NodeMessage) => { sent.push(message); } };
  const taskId = nextId(SELF);
  // As a submit does: the driver holds the task's own object, and the stream is opened.
  store.addHolder(taskId, client.id);
  streams.open(taskId);
  const answers = (): Array<string | null> => sent.map((message) => (message.type === 'stream-item' ? message.objectId : 'other'));
  return { store, streams, client, taskId, sent, answers, forwarded, released, waits };
}

describe('the streams of generator tasks this node owns', () => {
  it('keeps each value for its stream until a reader takes it, and for the reader from then on', () => {
    const { store, streams, client, taskId, answers } = setup();
    const item = yieldId(taskId, 0);
    expect(streams.item(taskId, 0, ok(10))).toBe(true);
    expect([...(store.get(item)?.holders ?? [])]).toEqual([`stream:${taskId}`]);
    streams.read(client, 1, taskId, 0, undefined);
    expect(answers()).toEqual([item]);
    expect([...(store.get(item)?.holders ?? [])]).toEqual(['driver-1']);
    store.removeHolder(item, 'driver-1');
    expect(store.get(item)).toBeUndefined();
  });

  it('answers a read made before its value once it comes, and a read past the last value with null when the task ends', () => {
    const { store, streams, client, taskId, answers, waits } = setup();
    streams.read(client, 1, taskId, 0, 'task-reader');
    expect(answers()).toEqual([]);
    streams.item(taskId, 0, ok('a'));
    expect(answers()).toEqual([yieldId(taskId, 0)]);
    streams.read(client, 2, taskId, 1, 'task-reader');
    store.complete(taskId, ok(1));
    expect(answers()).toEqual([yieldId(taskId, 0), null]);
    // A read after the end is answered at once; every read counts as one wait, as a get does.
    streams.read(client, 3, taskId, 1, 'task-reader');
    expect(answers()).toEqual([yieldId(taskId, 0), null, null]);
    expect(waits).toEqual({ blocked: 3, unblocked: 3 });
  });

  it('frees the values nobody read once the task\'s own object is freed, and keeps those a reader holds', () => {
    const { store, streams, client, taskId, answers } = setup();
    for (let i = 0; i < 3; i++) streams.item(taskId, i, ok(i));
    streams.read(client, 1, taskId, 0, undefined);
    store.complete(taskId, ok(3));
    store.removeHolder(taskId, 'driver-1');
    expect(store.get(taskId)).toBeUndefined();
    expect(store.get(yieldId(taskId, 0))?.result).toEqual(ok(0));
    expect(store.get(yieldId(taskId, 1))).toBeUndefined();
    expect(store.get(yieldId(taskId, 2))).toBeUndefined();
    // The stream is gone: a late read is answered with null (the task's object says why).
    streams.read(client, 2, taskId, 1, undefined);
    expect(answers()).toEqual([yieldId(taskId, 0), null]);
    expect(streams.item(taskId, 3, ok(3))).toBe(false);
  });

  it('drops values that repeat, skip ahead or come after the end, and lets their sender go of large ones at once', () => {
    const { store, streams, taskId, released } = setup();
    expect(streams.item(taskId, 0, ok(0))).toBe(true);
    expect(streams.item(taskId, 0, ok(0))).toBe(false);
    expect(streams.item(taskId, 2, ok(2))).toBe(false);
    store.complete(taskId, ok(1));
    expect(streams.item(taskId, 1, ok(1))).toBe(false);
    const location = { objectId: yieldId(taskId, 1), nodeId: OTHER, size: 1 << 20 };
    streams.told(OTHER, { type: 'task-yield', taskId, index: 1, result: { status: 'remote', location } });
    expect(released).toEqual([[OTHER, yieldId(taskId, 1), false]]);
    expect(store.get(yieldId(taskId, 1))).toBeUndefined();
  });

  it('keeps where a large value told by the node running the task is, and the refs inside a small one until borrowed', () => {
    const { store, streams, taskId, released } = setup();
    const location = { objectId: yieldId(taskId, 0), nodeId: OTHER, size: 1 << 20 };
    streams.told(OTHER, { type: 'task-yield', taskId, index: 0, result: { status: 'remote', location } });
    expect(store.get(yieldId(taskId, 0))?.location).toEqual(location);
    const inner = nextId(SELF);
    store.addHolder(inner, 'driver-1');
    streams.told(OTHER, { type: 'task-yield', taskId, index: 1, result: { status: 'ok', value: { ...encode(0), refs: [inner] } } });
    expect(released).toEqual([[OTHER, yieldId(taskId, 1), true]]);
  });

  it('stores a value yielded here for a task owned elsewhere, held for its owner, and tells the owner', () => {
    const { store, streams, forwarded } = setup();
    const taskId = nextId(OTHER);
    store.returnResultTo(taskId, OTHER);
    streams.yielded(taskId, 0, encode('x'));
    expect(forwarded).toEqual([{ type: 'task-yield', taskId, index: 0, result: ok('x') }]);
    expect([...(store.get(yieldId(taskId, 0))?.holders ?? [])]).toEqual([`peer:${OTHER}`]);
  });
});
