/**
 * Ref tracking across a restart in one process (shutdown() then init()): each runtime's refs are
 * its own generation of the tracker, so a later runtime neither hears of the refs of an earlier
 * one nor is told when they are collected, and a stale ref fails the call it is given to.
 * In-memory connections stand in for the node: what each runtime sends is recorded.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { cancel, get, put, wait } from '../src/api.ts';
import {
  encode, ObjectLostError, ObjectRef, inProcessPair, validateClientMessage, ClientRuntime, setRuntime, RefTracker,
  encodeArgs, type RefSink, type ClientMessage, type NodeMessage,
} from '@weft/protocol';
import { rejectionOf } from './support/outcome.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A sink that records what it is told. */
function recordingSink(): RefSink & { acquiredIds: string[]; releasedIds: string[] } {
  const sink = {
    acquiredIds: [] as string[],
    releasedIds: [] as string[],
    acquired(id: string) { sink.acquiredIds.push(id); },
    released(ids: string[]) { sink.releasedIds.push(...ids); },
  };
  return sink;
}

/** Collect garbage until `done` holds (finalizers run after a GC, releases a turn later). */
async function collectUntil(done: () => boolean): Promise<void> {
  for (let round = 0; round < 50 && !done(); round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(done()).toBe(true);
}

/** `count` refs tracked by `tracker`, kept by nobody: only their ids come back. */
function dropRefs(tracker: RefTracker, prefix: string, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(`${prefix}${i}`);
    tracker.track({}, `${prefix}${i}`, 'node-aaaaaaaaaaaa');
  }
  return ids;
}

describe('the ref tracker across runtimes', () => {
  it('tells a runtime attached after another detached nothing of the refs of the first', () => {
    const tracker = new RefTracker();
    const first = recordingSink();
    tracker.attach(first);
    const kept = Array.from({ length: 1000 }, (_, i) => ({ i }));
    const oldGeneration = kept.map((ref, i) => tracker.track(ref, `old-${i}`, 'node-aaaaaaaaaaaa'))[0] as number;
    expect(first.acquiredIds).toHaveLength(1000);
    tracker.detach(first);
    const second = recordingSink();
    tracker.attach(second);
    expect(second.acquiredIds).toEqual([]);
    expect(tracker.isCurrent(oldGeneration)).toBe(false);
    expect(tracker.isCurrent(tracker.track({}, 'new-0', undefined))).toBe(true);
    expect(second.acquiredIds).toEqual(['new-0']);
    expect(kept).toHaveLength(1000); // the old refs were alive throughout
  });

  it('still reports refs made while no runtime was attached to the next one (a worker before its runtime exists)', () => {
    const tracker = new RefTracker();
    const early = {};
    tracker.track(early, 'early-0', undefined);
    const sink = recordingSink();
    tracker.attach(sink);
    expect(sink.acquiredIds).toEqual(['early-0']);
  });

  it('ignores refs of an ended generation that are collected after a restart, and still releases new ones', async () => {
    const tracker = new RefTracker();
    const first = recordingSink();
    tracker.attach(first);
    const oldIds = dropRefs(tracker, 'old-', 1000);
    tracker.detach(first);
    const second = recordingSink();
    tracker.attach(second);
    dropRefs(tracker, 'new-', 10);
    await collectUntil(() => second.releasedIds.length === 10);
    const old = new Set(oldIds);
    expect(second.releasedIds.filter((id) => old.has(id))).toEqual([]);
    expect(first.releasedIds).toEqual([]);
  });

  it('ends the generation of a sink that is replaced, and ignores that sink detaching late', () => {
    const tracker = new RefTracker();
    const first = recordingSink();
    tracker.attach(first);
    const generation = tracker.track({}, 'a-0', undefined);
    const second = recordingSink();
    tracker.attach(second);
    expect(tracker.isCurrent(generation)).toBe(false);
    expect(second.acquiredIds).toEqual([]);
    tracker.detach(first);
    tracker.track({}, 'b-0', undefined);
    expect(second.acquiredIds).toEqual(['b-0']);
  });
});

/** A runtime whose node is this test: what the runtime sends is recorded (and validated as a node would). */
function fakeNode(nodeId: string) {
  const [clientEnd, nodeEnd] = inProcessPair<NodeMessage, ClientMessage>();
  const received: ClientMessage[] = [];
  nodeEnd.onMessage((message) => received.push(validateClientMessage(message)));
  const runtime = new ClientRuntime(clientEnd, { nodeId, workerId: 'driver-1', jobId: 'job-1', workingDir: process.cwd() });
  setRuntime(runtime);
  return { runtime, received };
}

/** Whether any recorded message names one of `ids` (a field anywhere in it). */
function mentions(messages: ClientMessage[], ids: Set<string>): ClientMessage[] {
  return messages.filter((message) => JSON.stringify(message, (_key, value: unknown) => (value instanceof Uint8Array ? undefined : value))
    .match(/"[A-Za-z0-9_-]+"/g)?.some((token) => ids.has(token.slice(1, -1))));
}

/** Let the connections deliver what was sent (they batch a turn's messages). */
const delivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(() => setRuntime(undefined));

describe('a driver runtime started after another was shut down', () => {
  it('fails get, wait, cancel, task arguments and put values holding a stale ref at once, and sends nothing about it', async () => {
    const before = fakeNode('node-aaaaaaaaaaaa');
    const old = Array.from({ length: 2000 }, (_, i) => put(i));
    // A ref made elsewhere and received here: its first instance is announced (add-refs).
    const borrowed = new ObjectRef<number>('bbbbbbbbbbbbprocess1x', 'node-bbbbbbbbbbbb');
    await delivered();
    expect(before.received.some((m) => m.type === 'add-refs')).toBe(true);
    setRuntime(undefined);
    before.runtime.close();

    const after = fakeNode('node-cccccccccccc');
    const stale = [...old, borrowed];
    const staleIds = new Set(stale.map((ref) => ref.id));
    for (const attempt of [get(stale[0] as ObjectRef), get([stale[1] as ObjectRef]), wait([borrowed]), cancel(stale[2] as ObjectRef)]) {
      const error = await rejectionOf(attempt);
      expect(error).toBeInstanceOf(ObjectLostError);
      expect(error.code).toBe('OBJECT_LOST');
      expect(error.message).toMatch(/^(get|wait|cancel)\(\): ObjectRef \S+ belongs to a weft runtime that was shut down; .*put\(\) it again, or call its task again/);
    }
    expect(() => encodeArgs([1, stale[3]], 'add')).toThrow(/^add\.remote\(\): ObjectRef \S+ belongs to a weft runtime that was shut down/);
    expect(() => encodeArgs([{ nested: [stale[4]] }], 'add')).toThrow(/^add\.remote\(\): ObjectRef/);
    expect(() => put({ inside: stale[5] })).toThrow(ObjectLostError);

    // New work goes on, and is tracked.
    const fresh = put(42);
    expect(() => encode({ fresh })).not.toThrow();
    await delivered();
    expect(after.received.some((m) => m.type === 'put-object' && m.objectId === fresh.id)).toBe(true);
    expect(mentions(after.received, staleIds)).toEqual([]);
    expect(stale).toHaveLength(2001);
    after.runtime.close();
  });

  it('sends no release of a stale ref collected after the restart', async () => {
    const before = fakeNode('node-aaaaaaaaaaaa');
    const oldIds = new Set(Array.from({ length: 2000 }, (_, i) => put(i).id));
    await delivered();
    expect(before.received.filter((m) => m.type === 'put-object')).toHaveLength(2000);
    setRuntime(undefined);
    before.runtime.close();
    const after = fakeNode('node-cccccccccccc');
    // A fresh borrowed ref, dropped: its release shows that finalizers ran.
    new ObjectRef('ddddddddddddprocess1x', 'node-dddddddddddd');
    await collectUntil(() => after.received.some((m) => m.type === 'release-refs'));
    expect(mentions(after.received, oldIds)).toEqual([]);
    expect(mentions(before.received.filter((m) => m.type === 'release-refs'), oldIds)).toEqual([]);
    after.runtime.close();
  });
});
