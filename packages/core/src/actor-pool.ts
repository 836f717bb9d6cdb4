/**
 * ActorPool, as Ray's `ray.util.ActorPool`: spread work over a fixed set of actors, keeping each
 * one busy with one call at a time, and collect the results in order (`map`, `getNext`) or as
 * they finish (`mapUnordered`, `getNextUnordered`).
 *
 * ```ts
 * const pool = new ActorPool([Worker.remote(), Worker.remote()]);
 * for await (const y of pool.map((a, x) => a.double.remote(x), [1, 2, 3, 4])) console.log(y);
 * ```
 */
import type { ActorHandle } from './actor.ts';
import { get, wait, type GetOptions } from './api.ts';
import { GetTimeoutError, type ObjectRef } from '@weft/protocol';

/** How a pool calls an actor with one value. */
export type PoolCall<A, V, R> = (actor: ActorHandle<A>, value: V) => ObjectRef<R>;

interface InFlight<A> {
  ref: ObjectRef<unknown>;
  actor: ActorHandle<A>;
}

export class ActorPool<A> {
  readonly #idle: ActorHandle<A>[];
  readonly #pending: Array<{ call: PoolCall<A, unknown, unknown>; value: unknown }> = [];
  readonly #inFlight = new Map<number, InFlight<A>>();
  readonly #indexOf = new Map<string, number>();
  #nextSubmit = 0;
  #nextReturn = 0;

  /** A pool over these actors. */
  constructor(actors: Iterable<ActorHandle<A>>) {
    this.#idle = [...actors];
  }

  /** Results of `call` over `values`, in the order of `values`. */
  async *map<V, R>(call: PoolCall<A, V, R>, values: Iterable<V>): AsyncGenerator<R> {
    this.#drainBefore('map');
    for (const value of values) this.submit(call, value);
    while (this.hasNext()) yield (await this.getNext()) as R;
  }

  /** Results of `call` over `values`, as they finish. */
  async *mapUnordered<V, R>(call: PoolCall<A, V, R>, values: Iterable<V>): AsyncGenerator<R> {
    this.#drainBefore('mapUnordered');
    for (const value of values) this.submit(call, value);
    while (this.hasNext()) yield (await this.getNextUnordered()) as R;
  }

  /** Call an idle actor with `value` (or queue the call until one is free). */
  submit<V, R>(call: PoolCall<A, V, R>, value: V): void {
    const actor = this.#idle.pop();
    if (!actor) {
      this.#pending.push({ call: call as PoolCall<A, unknown, unknown>, value });
      return;
    }
    const ref = call(actor, value) as ObjectRef<unknown>;
    const index = this.#nextSubmit++;
    this.#inFlight.set(index, { ref, actor });
    this.#indexOf.set(ref.id, index);
  }

  /** Whether results are still to be collected. */
  hasNext(): boolean {
    return this.#inFlight.size > 0 || this.#pending.length > 0;
  }

  /** The next result in submission order. */
  async getNext<R = unknown>(options: GetOptions = {}): Promise<R> {
    if (!this.hasNext()) throw new RangeError('getNext(): no more results; submit work first');
    // Results taken by getNextUnordered are skipped.
    while (this.#nextReturn < this.#nextSubmit && !this.#inFlight.has(this.#nextReturn)) this.#nextReturn += 1;
    const index = this.#nextReturn;
    const entry = this.#inFlight.get(index) ?? this.#noActors(index);
    if (options.timeoutMs !== undefined) {
      const { ready } = await wait([entry.ref], { timeoutMs: options.timeoutMs });
      if (ready.length === 0) throw new GetTimeoutError(`getNext() timed out after ${options.timeoutMs} ms`);
    }
    this.#nextReturn += 1;
    return this.#collect(index, entry) as Promise<R>;
  }

  /** The next result to finish, whatever its order. */
  async getNextUnordered<R = unknown>(options: GetOptions = {}): Promise<R> {
    if (!this.hasNext()) throw new RangeError('getNextUnordered(): no more results; submit work first');
    const refs = [...this.#inFlight.values()].map((entry) => entry.ref);
    const { ready } = await wait(refs, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    const ref = ready[0];
    if (!ref) throw new GetTimeoutError(`getNextUnordered() timed out after ${options.timeoutMs} ms`);
    const index = this.#indexOf.get(ref.id) as number;
    return this.#collect(index, this.#inFlight.get(index) as InFlight<A>) as Promise<R>;
  }

  /** Whether an actor is idle. */
  hasFree(): boolean {
    return this.#idle.length > 0 && this.#pending.length === 0;
  }

  /** Take an idle actor out of the pool. */
  popIdle(): ActorHandle<A> | undefined {
    return this.hasFree() ? this.#idle.pop() : undefined;
  }

  /** Add an actor to the pool. Throws when it is in the pool already (idle or busy), as in Ray. */
  push(actor: ActorHandle<A>): void {
    const busy = [...this.#inFlight.values()].some((entry) => entry.actor.actorId === actor.actorId);
    if (busy || this.#idle.some((idle) => idle.actorId === actor.actorId)) {
      throw new RangeError(`actor ${actor.actorId} belongs to this pool already`);
    }
    this.#returnActor(actor);
  }

  async #collect(index: number, entry: InFlight<A>): Promise<unknown> {
    this.#inFlight.delete(index);
    this.#indexOf.delete(entry.ref.id);
    try {
      return await get(entry.ref);
    } finally {
      this.#returnActor(entry.actor);
    }
  }

  #returnActor(actor: ActorHandle<A>): void {
    this.#idle.push(actor);
    const next = this.#pending.shift();
    if (next) this.submit(next.call, next.value);
  }

  #noActors(index: number): never {
    // Only reachable when every actor was popped: nothing can run the queued work.
    throw new RangeError(`result ${index} cannot arrive: the pool has no actors to run the queued calls; push() one`);
  }

  #drainBefore(what: string): void {
    if (this.hasNext()) throw new RangeError(`${what}(): collect the results already submitted first`);
  }
}
