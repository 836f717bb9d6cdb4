/**
 * Keys of the result cache (`Memory`): which calls count as the same call.
 *
 * A key is a sha256 of the function's identity (its module relative to the working directory,
 * its registry key, its source text `fn.toString()`) and of its arguments encoded with weft's
 * codec. The codec writes what it is given in order, so the arguments are first copied into a
 * canonical form of the same types:
 *
 * - objects get their keys in sorted order, Maps their entries and Sets their members sorted by
 *   their encoding: `{ a, b }` and `{ b, a }` are the same arguments, and so are two Maps or Sets
 *   with the same contents inserted in another order (as `assert.deepStrictEqual` judges them);
 * - array order, and types, matter: `[1, 2]` is not `[2, 1]`, `1` is not `1n` or `'1'`, a
 *   Float64Array is not a Float32Array of the same numbers; `-0` and `0` are the same (the codec
 *   writes both as 0), and so are a hole and `undefined` in an array;
 * - sharing does not matter: `[o, o]` is the same as `[{ ...o }, { ...o }]` (only a cycle is
 *   kept as a cycle); a structure that shares one object many times is hashed as the tree it
 *   unfolds to;
 * - typed arrays are hashed by their bytes (never copied for the canonical form);
 * - ObjectRefs and actor handles, at the top level or nested, are refused (see memory.ts).
 */
import { createHash } from 'node:crypto';
import { encode, ObjectRef, ActorHandleBase } from '@weft/protocol';

/** Changes when the key's recipe (or the entry format) changes, so that old entries are not read. */
export const KEY_FORMAT = 'weft-memory/1';

const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => ArrayBufferView;

/** An argument that cannot be part of a key: its `path` says where, e.g. `0.prices`. */
export class UncacheableArgumentError extends TypeError {
  /** Where in the arguments: the argument's index, then keys or indexes within it. */
  readonly path: string;
  /** What was found there: `'an ObjectRef'` or `'an actor handle'`. */
  readonly found: string;
  constructor(path: string, found: string) {
    super(`argument ${path} is ${found}`);
    this.path = path;
    this.found = found;
  }
}

/** The identity of a function: sha256 (hex) of its module, registry key and source text. */
export function functionDigest(modulePath: string, key: string, source: string): string {
  return createHash('sha256').update(`${KEY_FORMAT}\0${modulePath}\0${key}\0${source}`).digest('hex');
}

/**
 * The key of a call: sha256 (hex) of the function's digest and of its canonical arguments.
 * Throws UncacheableArgumentError for a ref or an actor handle, and the codec's
 * SerializationError for what cannot be sent at all (a function, a class instance).
 */
export function callDigest(fnDigest: string, args: readonly unknown[]): string {
  const frame = encode(canonical(args), false).data;
  return createHash('sha256').update(`${KEY_FORMAT}\0${fnDigest}\0`).update(frame).digest('hex');
}

/** A copy of `value` in canonical order (see the module comment); typed arrays are new views, not copies. */
export function canonical(value: unknown): unknown {
  // Ancestors of the node being copied, to their copies: a cycle points back to one of them.
  const ancestors = new Map<object, unknown>();
  const trail: Array<string | number> = [];
  const visit = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (v instanceof ObjectRef) throw new UncacheableArgumentError(trail.join('.'), 'an ObjectRef');
    if (v instanceof ActorHandleBase) throw new UncacheableArgumentError(trail.join('.'), 'an actor handle');
    // A fresh view of the same bytes: the codec would write a second use of one view as a
    // back-reference, and sharing must not change the key.
    if (v instanceof TypedArray) return freshView(v);
    const cyclic = ancestors.get(v);
    if (cyclic !== undefined) return cyclic;
    const proto = Object.getPrototypeOf(v) as object | null;
    if (Array.isArray(v)) return within(v, [] as unknown[], (copy) => { for (let i = 0; i < v.length; i++) copy.push(step(i, v[i])); });
    if (v instanceof Map) return within(v, new Map(), (copy) => {
      const entries = [...v].map(([k, x], i) => [step(`<key ${i}>`, k), step(`<value ${i}>`, x)] as const);
      for (const [k, x] of sortedBy(entries, ([k2, x2]) => [sortKey(k2), sortKey(x2)])) copy.set(k, x);
    });
    if (v instanceof Set) return within(v, new Set(), (copy) => {
      for (const x of sortedBy([...v].map((x2, i) => step(`<member ${i}>`, x2)), (x2) => [sortKey(x2)])) copy.add(x);
    });
    if (proto !== Object.prototype && proto !== null) return v; // Date, RegExp, Error… as they are; class instances fail in encode
    return within(v, {} as Record<string, unknown>, (copy) => {
      const record = v as Record<string, unknown>;
      for (const key of Object.keys(record).sort()) {
        // defineProperty, not assignment: a key '__proto__' stays a key.
        Object.defineProperty(copy, key, { value: step(key, record[key]), enumerable: true, writable: true, configurable: true });
      }
    });
  };
  const step = (key: string | number, v: unknown): unknown => {
    trail.push(key);
    try {
      return visit(v);
    } finally {
      trail.pop();
    }
  };
  const within = <C>(original: object, copy: C, fill: (copy: C) => void): C => {
    ancestors.set(original, copy);
    try {
      fill(copy);
    } finally {
      ancestors.delete(original);
    }
    return copy;
  };
  return visit(value);
}

function freshView(view: ArrayBufferView): ArrayBufferView {
  if (Buffer.isBuffer(view)) return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const Kind = view.constructor as new (buffer: ArrayBufferLike, offset: number, length: number) => ArrayBufferView;
  const size = (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new Kind(view.buffer, view.byteOffset, view.byteLength / size);
}

/** A total order on canonical values: primitives by type and text, objects by their encoding. */
function sortKey(value: unknown): string {
  if (typeof value === 'object' && value !== null) return `o:${Buffer.from(encode(value, false).data).toString('latin1')}`;
  return `${value === null ? 'null' : typeof value}:${String(value)}`;
}

/** `items` sorted by `key` (compared element by element). */
function sortedBy<T>(items: T[], key: (item: T) => string[]): T[] {
  const keyed = items.map((item) => ({ item, key: key(item) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const x = a.key[i] as string;
      const y = b.key[i] as string;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  return keyed.map(({ item }) => item);
}
