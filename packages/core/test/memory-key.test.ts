import { describe, expect, it } from 'vitest';
import { ObjectRef, SerializationError } from '@weft/core';
import { ActorHandleBase } from '@weft/protocol';
import { callDigest, canonical, functionDigest, UncacheableArgumentError } from '../src/memory-key.ts';

const FN = functionDigest('src/tasks.ts', 'backtest', 'function backtest(p) { return p.fast; }');
const key = (...args: unknown[]): string => callDigest(FN, args);

describe('cache keys: which calls are the same call', () => {
  it('gives equal arguments built afresh the same key, and is a sha256', () => {
    const make = () => [{ fast: 5, slow: [20, 50], name: 'grid', when: new Date(0), big: 2n ** 70n }, 'x', null, undefined];
    expect(key(...make())).toBe(key(...make()));
    expect(key(...make())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores the key order of objects, at every depth', () => {
    expect(key({ a: 1, b: { c: 2, d: [1, { e: 3, f: 4 }] } })).toBe(key({ b: { d: [1, { f: 4, e: 3 }], c: 2 }, a: 1 }));
  });

  it('ignores the insertion order of Maps and Sets, keys that are objects included', () => {
    const m1 = new Map<unknown, unknown>([['x', 1], [2, 'two'], [{ k: 1, j: 2 }, new Set([3, 1, 2])]]);
    const m2 = new Map<unknown, unknown>([[{ j: 2, k: 1 }, new Set([2, 3, 1])], [2, 'two'], ['x', 1]]);
    expect(key(m1)).toBe(key(m2));
    expect(key(new Set(['b', 'a', 1, 1n]))).toBe(key(new Set([1n, 1, 'a', 'b'])));
  });

  it('tells apart what differs: array order, values, types, Map and Set contents', () => {
    const keys = [
      key([1, 2]), key([2, 1]), key(1), key('1'), key(1n), key(true), key(null), key(undefined), key({}), key([]),
      key(new Map([[1, 2]])), key(new Map([[2, 1]])), key(new Set([1])), key(new Set([1, 2])), key([1], 2), key([1, 2], undefined),
      key(new Float64Array([1, 2])), key(new Float32Array([1, 2])), key(new Float64Array([1, 3])), key(new Uint8Array([1, 2])),
      key(Buffer.from([1, 2])), key({ a: 1 }), key({ a: 1, b: undefined }), key({ b: 1 }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('hashes typed arrays by their bytes, wherever the bytes sit', () => {
    const backing = new Float64Array([9, 1.5, -2, 9]);
    const view = new Float64Array(backing.buffer, 8, 2);
    expect(key({ xs: view })).toBe(key({ xs: new Float64Array([1.5, -2]) }));
    const shared = new Float64Array(new SharedArrayBuffer(16));
    shared.set([1.5, -2]);
    expect(key(shared)).toBe(key(new Float64Array([1.5, -2])));
    const big = new Float64Array(1_000_000).fill(1);
    const k1 = key(big);
    big[999_999] = 2;
    expect(key(big)).not.toBe(k1);
  });

  it('does not depend on sharing: one object used twice is two equal objects', () => {
    const o = { a: [1, 2] };
    const xs = new Int32Array([4, 5]);
    expect(key([o, o, xs, xs])).toBe(key([{ a: [1, 2] }, { a: [1, 2] }, new Int32Array([4, 5]), new Int32Array([4, 5])]));
  });

  it('keys cycles, the same for the same shape', () => {
    const make = () => {
      const node: Record<string, unknown> = { b: 2, a: 1 };
      node.self = node;
      return node;
    };
    expect(key(make())).toBe(key(make()));
    const c = canonical(make()) as Record<string, unknown>;
    expect(c.self).toBe(c);
    expect(Object.keys(c)).toEqual(['a', 'b', 'self']);
  });

  it('keeps a key named __proto__ as a key', () => {
    const evil = JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as object;
    const c = canonical(evil) as Record<string, unknown>;
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.keys(c)).toEqual(['__proto__', 'y']);
    expect(key(evil)).not.toBe(key({ y: 2 }));
  });

  it('makes a new key when the code, the name or the module changes', () => {
    const base = functionDigest('src/a.ts', 'f', 'function f(x) { return x + 1; }');
    const others = [
      functionDigest('src/a.ts', 'f', 'function f(x) { return x + 2; }'),
      functionDigest('src/a.ts', 'f#2', 'function f(x) { return x + 1; }'),
      functionDigest('src/b.ts', 'f', 'function f(x) { return x + 1; }'),
    ];
    expect(new Set([base, ...others]).size).toBe(4);
    expect(callDigest(base, [1])).not.toBe(callDigest(others[0] as string, [1]));
    expect(functionDigest('src/a.ts', 'f', 'function f(x) { return x + 1; }')).toBe(base);
  });

  it('refuses ObjectRefs and actor handles, saying where they are', () => {
    const ref = new ObjectRef('obj-memory-key-1');
    expect(() => key(ref)).toThrow(UncacheableArgumentError);
    try {
      key(1, { data: [0, ref] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      expect((error as UncacheableArgumentError).path).toBe('1.data.1');
      expect((error as UncacheableArgumentError).found).toBe('an ObjectRef');
    }
    expect(() => key(new Map([['h', new ActorHandleBase('actor-1', 'Counter')]]))).toThrow(/argument 0\.<value 0> is an actor handle/);
  });

  it('lets the codec refuse what cannot be sent at all', () => {
    class Point { x = 1; }
    expect(() => key(new Point())).toThrow(SerializationError);
    expect(() => key({ f: () => 1 })).toThrow(SerializationError);
  });
});
