import { describe, expect, it } from 'vitest';
import { encode } from '@weft/protocol';
import { ObjectStore } from '../src/object-store.ts';

const ok = (value: unknown) => ({ status: 'ok' as const, value: encode(value) });

describe('object store', () => {
  it('frees an object when its last holder releases it', () => {
    const store = new ObjectStore();
    store.addHolder('a', 'driver');
    store.complete('a', ok(1));
    expect(store.get('a')?.result?.status).toBe('ok');
    store.removeHolder('a', 'driver');
    expect(store.get('a')).toBeUndefined();
  });

  it('keeps a pending object until its result arrives, then frees it if nobody holds it', () => {
    const store = new ObjectStore();
    store.addHolder('a', 'driver');
    store.removeHolder('a', 'driver');
    expect(store.get('a')).toBeDefined();
    store.complete('a', ok(1));
    expect(store.get('a')).toBeUndefined();
  });

  it('keeps pinned objects and objects referenced from other objects', () => {
    const store = new ObjectStore();
    store.addHolder('inner', 'driver');
    store.complete('inner', ok(5));
    store.addHolder('outer', 'driver');
    store.complete('outer', { status: 'ok', value: { ...encode(0), refs: ['inner'] } });
    store.removeHolder('inner', 'driver');
    expect(store.get('inner')).toBeDefined();
    store.removeHolder('outer', 'driver');
    expect(store.get('outer')).toBeUndefined();
    expect(store.get('inner')).toBeUndefined();
  });

  it('drops every hold of a client that went away', () => {
    const store = new ObjectStore();
    for (const id of ['a', 'b']) {
      store.addHolder(id, 'worker-1');
      store.complete(id, ok(id));
    }
    store.pin(['b']);
    store.dropClient('worker-1');
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBeDefined();
  });

  it('calls waiters once with the result, in completion order', () => {
    const store = new ObjectStore();
    const seen: string[] = [];
    for (const id of ['x', 'y']) {
      store.addHolder(id, 'd');
      store.onResult(store.ensure(id), (entry) => seen.push(entry.id));
    }
    store.complete('y', ok(1));
    store.complete('x', ok(2));
    store.complete('x', ok(3));
    expect(seen).toEqual(['y', 'x']);
    expect(store.get('y')!.seq).toBeLessThan(store.get('x')!.seq);
  });
});
