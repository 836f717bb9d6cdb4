/**
 * ObjectRef: a future for a value in the object store. A class at run time, so
 * `x instanceof ObjectRef` works in drivers and in tasks. Its type parameter is the type of the
 * value `get` returns.
 *
 * Reference tracking: every live ObjectRef instance in a process counts towards that process's
 * hold on the object. The process tells its node when its first instance of an id appears and
 * when the last one is garbage-collected (FinalizationRegistry), so an object nobody refers to
 * any more is freed. See ref-tracker.ts.
 */
import { ownerOf } from './ids.ts';
import { refTracker } from './runtime/ref-tracker.ts';

const brand: unique symbol = Symbol('ObjectRef.value');
/** Marks refs of every copy of this module (a CommonJS task module may load a second copy). */
const REF_BRAND = Symbol.for('weft.ObjectRef');

/** A reference to a value that a task returns or `put` stored. Pass it to tasks, or `get` it. */
export class ObjectRef<T = unknown> {
  /** The object's id, unique in the cluster. */
  readonly id: string;
  /** The node that owns the object (where it was put or its task submitted); absent: unknown (local). */
  readonly owner: string | undefined;
  /** Type-level only: the value type. Never set at run time. */
  declare readonly [brand]?: T;

  /** @internal Use `put` or `.remote()` to make refs. */
  constructor(id: string, owner?: string) {
    this.id = id;
    this.owner = owner ?? ownerOf(id);
    refTracker.track(this, id, owner);
  }

  /** `x instanceof ObjectRef` holds for refs made by any copy of @weft/core in this thread. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [REF_BRAND]?: boolean })[REF_BRAND] === true;
  }

  /** A short description for logs and the REPL. */
  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  /** @internal */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The value type an `ObjectRef<T>` resolves to. */
export type RefValue<R> = R extends ObjectRef<infer T> ? T : never;

Object.defineProperty(ObjectRef.prototype, REF_BRAND, { value: true });
