/**
 * Open get and wait calls over a real object store, a client that records its replies, and fake
 * timers: when each replies and with what, and that a task's worker is told blocked and unblocked
 * once per call whatever way it ends.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encode, type NodeMessage, type Result } from '@weft/protocol';
import { ObjectStore } from '../src/object-store.ts';
import { ObjectWaits, type WaitClient } from '../src/object-waits.ts';

const ok = (value: unknown): Result => ({ status: 'ok', value: encode(value) });

function setUp() {
  const store = new ObjectStore('node-a');
  const replies: NodeMessage[] = [];
  const client: WaitClient = { id: 'driver-1', send: (message) => void replies.push(message) };
  const blocking: string[] = [];
  const waits = new ObjectWaits(store, (taskId) => void blocking.push(`blocked ${taskId}`), (taskId) => void blocking.push(`unblocked ${taskId}`));
  /** Objects pending here (their tasks run), held by the client. */
  const pending = (...ids: string[]): void => { for (const id of ids) store.addHolder(id, client.id); };
  return { store, replies, client, blocking, waits, pending };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('get', () => {
  it('replies once every object is ready, with the results in the order asked, and blocks the task meanwhile', () => {
    const t = setUp();
    t.pending('x', 'y');
    t.waits.get(t.client, 1, ['y', 'x'], 'task-1');
    expect(t.blocking).toEqual(['blocked task-1']);
    t.store.complete('x', ok('X'));
    expect(t.replies).toEqual([]);
    t.store.complete('y', ok('Y'));
    expect(t.replies).toEqual([{ type: 'objects', requestId: 1, results: [ok('Y'), ok('X')] }]);
    expect(t.blocking).toEqual(['blocked task-1', 'unblocked task-1']);
  });

  it('replies at once when everything is ready, still counting one block and unblock for the task', () => {
    const t = setUp();
    t.pending('x');
    t.store.complete('x', ok(1));
    t.waits.get(t.client, 1, ['x', 'x'], 'task-1');
    expect(t.replies).toEqual([{ type: 'objects', requestId: 1, results: [ok(1), ok(1)] }]);
    expect(t.blocking).toEqual(['blocked task-1', 'unblocked task-1']);
  });

  it('answers an object the store does not know with ObjectLostError', () => {
    const t = setUp();
    t.waits.get(t.client, 1, ['gone'], undefined);
    expect(t.replies).toMatchObject([{ type: 'objects', results: [{ status: 'error', error: { code: 'OBJECT_LOST', message: expect.stringMatching(/object gone is not in the object store/) } }] }]);
  });

  it('sends nothing for a get the client cancelled, and unblocks its task once', () => {
    const t = setUp();
    t.pending('x');
    t.waits.get(t.client, 1, ['x'], 'task-1');
    t.waits.cancel(t.client, 1);
    t.waits.cancel(t.client, 1);
    t.store.complete('x', ok(1));
    expect(t.replies).toEqual([]);
    expect(t.blocking).toEqual(['blocked task-1', 'unblocked task-1']);
  });

  it('sends nothing to a client that went away', () => {
    const t = setUp();
    t.pending('x');
    t.waits.get(t.client, 1, ['x'], undefined);
    t.waits.dropClient(t.client.id);
    t.store.complete('x', ok(1));
    expect(t.replies).toEqual([]);
  });
});

describe('wait', () => {
  const readyIds = (replies: NodeMessage[]): string[][] => replies.flatMap((m) => (m.type === 'wait-result' ? [m.readyIds] : []));

  it('replies once numReturns objects are ready, in the order they completed', () => {
    const t = setUp();
    t.pending('a', 'b', 'c');
    t.waits.wait(t.client, 1, ['a', 'b', 'c'], 2, null, 'task-1');
    t.store.complete('c', ok(3));
    expect(t.replies).toEqual([]);
    t.store.complete('a', ok(1));
    t.store.complete('b', ok(2));
    expect(readyIds(t.replies)).toEqual([['c', 'a']]);
    expect(t.blocking).toEqual(['blocked task-1', 'unblocked task-1']);
  });

  it('replies at its timeout with what is ready then, once', async () => {
    vi.useFakeTimers();
    const t = setUp();
    t.pending('a', 'b');
    t.waits.wait(t.client, 1, ['a', 'b'], 2, 1_000, undefined);
    t.store.complete('b', ok(2));
    await vi.advanceTimersByTimeAsync(999);
    expect(t.replies).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(readyIds(t.replies)).toEqual([['b']]);
    t.store.complete('a', ok(1));
    expect(t.replies).toHaveLength(1);
  });

  it('replies at once with timeout 0, and counts an unknown (freed) object as ready', () => {
    const t = setUp();
    t.pending('a');
    t.waits.wait(t.client, 1, ['a', 'freed'], 2, 0, undefined);
    expect(readyIds(t.replies)).toEqual([['freed']]);
  });

  it('counts an object ready on another node once, when its bytes arrive, not twice', () => {
    const t = setUp();
    t.pending('here', 'there');
    t.store.located(t.store.ensure('there'), { objectId: 'there', nodeId: 'node-b', size: 500_000 });
    const fetched: string[] = [];
    t.store.fetch = (entry) => void fetched.push(entry.id);
    t.waits.wait(t.client, 1, ['there', 'here'], 2, null, undefined);
    expect(fetched).toContain('there'); // its bytes are brought here (a pending local object is asked too; the resolver ignores it)
    t.store.complete('there', ok('bytes'));
    expect(t.replies).toEqual([]);
    t.store.complete('here', ok('local'));
    expect(readyIds(t.replies)).toEqual([['there', 'here']]);
  });

  it('clears the timer of a wait whose client went away', async () => {
    vi.useFakeTimers();
    const t = setUp();
    t.pending('a');
    t.waits.wait(t.client, 1, ['a'], 1, 5_000, undefined);
    expect(vi.getTimerCount()).toBe(1);
    t.waits.dropClient(t.client.id);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    t.store.complete('a', ok(1));
    expect(t.replies).toEqual([]);
  });
});
