/**
 * ObjectRef: a future for a value in the object store. A class at run time, so
 * `x instanceof ObjectRef` works in drivers and in tasks. Its type parameter is the type of the
 * value `get` returns.
 *
 * Reference tracking: every live ObjectRef instance in a process counts towards that process's
 * hold on the object. The process tells its node when its first instance of an id appears and
 * when the last one is garbage-collected (FinalizationRegistry), so an object nobody refers to
 * any more is freed. See ref-tracker.ts.
 *
 * A ref belongs to the runtime it was made in: after shutdown() it is stale, and stays stale after
 * a later init() (its object went with the old runtime). Using it fails at once (assertCurrent).
 */
import { ObjectLostError } from './errors.ts';
import { ownerOf } from './ids.ts';
import { refTracker } from './runtime/ref-tracker.ts';

const brand: unique symbol = Symbol('ObjectRef.value');
/** Marks refs of every copy of this module (a CommonJS task module may load a second copy). */
const REF_BRAND = Symbol.for('weft.ObjectRef');

/** Whether a ref is of a generation that ended; set by the class (it alone reads #generation). Declared before it: its static block assigns it. */
let isStale: (ref: ObjectRef) => boolean;

/** A reference to a value that a task returns or `put` stored. Pass it to tasks, or `get` it. */
export class ObjectRef<T = unknown> {
  /** The object's id, unique in the cluster. */
  readonly id: string;
  /** The node that owns the object (where it was put or its task submitted); absent: unknown (local). */
  readonly owner: string | undefined;
  /** Type-level only: the value type. Never set at run time. */
  declare readonly [brand]?: T;
  /** The ref tracker's generation this ref was made in: the ref is stale once that generation ends. */
  readonly #generation: number;

  /** @internal Use `put` or `.remote()` to make refs. */
  constructor(id: string, owner?: string) {
    this.id = id;
    this.owner = owner ?? ownerOf(id);
    this.#generation = refTracker.track(this, id, owner);
  }

  static {
    // A ref of another copy of this module (see REF_BRAND) has no #generation here: its own copy's
    // tracker counts it, so this one cannot tell, and lets it be.
    isStale = (ref) => #generation in ref && !refTracker.isCurrent(ref.#generation);
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

/**
 * @internal Throw ObjectLostError if `ref` was made by a runtime that has been shut down since:
 * its object is gone, and the node of this runtime must not be asked about it. `where` names the
 * call that was given it (`get()`, `add.remote()`) and opens the message.
 */
export function assertCurrent(ref: ObjectRef, where: string): void {
  if (isStale(ref)) {
    throw new ObjectLostError(`${where}: ObjectRef ${ref.id} belongs to a weft runtime that was shut down; `
      + 'refs do not outlive shutdown() (their objects went with it), not even after init() again: '
      + 'make the value anew in this runtime (put() it again, or call its task again)');
  }
}

/** The value type an `ObjectRef<T>` resolves to. */
export type RefValue<R> = R extends ObjectRef<infer T> ? T : never;

Object.defineProperty(ObjectRef.prototype, REF_BRAND, { value: true });
