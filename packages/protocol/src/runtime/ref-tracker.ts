/**
 * Counts the live ObjectRef instances of each id in this process and reports the first and the
 * last of them to whoever owns reference counting here (the client runtime), which tells the
 * node. The last one is detected with a FinalizationRegistry, so a driver never has to release
 * refs by hand; releases are batched because GC finalizes in bursts.
 *
 * Generations: the tracker's counts belong to one runtime at a time. When that runtime detaches
 * (shutdown()), its generation ends: its counts are forgotten, its FinalizationRegistry's
 * callbacks do nothing, and every ref made in it is stale (`isCurrent` says no). A driver that
 * calls init() again thus never tells its new node about objects of the old runtime: their owner
 * (an embedded node that stopped, or a job that ended) is gone, and the new node would try to
 * borrow them from it, or hold ids it will never have. A ref only carries its generation number;
 * nothing per ref is kept or done when a generation ends.
 */

/** Receives the holds of this process. */
export interface RefSink {
  /** This process now holds `id` (its first live ObjectRef appeared); `owner`: the owning node, if known. */
  acquired(id: string, owner: string | undefined): void;
  /** This process no longer holds any of `ids`. */
  released(ids: string[]): void;
}

export class RefTracker {
  #generation = 1;
  #counts = new Map<string, number>();
  #owners = new Map<string, string>();
  #registry = this.#newRegistry();
  #pendingRelease: string[] = [];
  #flushScheduled = false;
  #sink: RefSink | undefined;

  /**
   * Route holds to `sink`; ids already held in this generation (refs made while no runtime was
   * attached, as in a worker before its runtime exists) are reported to it at once. A sink that
   * replaces another without it detaching starts a new generation: the other's refs are not its.
   */
  attach(sink: RefSink): void {
    if (this.#sink === sink) return;
    if (this.#sink !== undefined) this.#endGeneration();
    this.#sink = sink;
    for (const id of this.#counts.keys()) sink.acquired(id, this.#owners.get(id));
  }

  /** `sink`'s runtime is gone: its generation ends. Nothing, if another sink took over already. */
  detach(sink: RefSink): void {
    if (this.#sink !== sink) return;
    this.#sink = undefined;
    this.#endGeneration();
  }

  /** Count a new ObjectRef instance; returns the generation it belongs to. */
  track(ref: object, id: string, owner: string | undefined): number {
    const count = this.#counts.get(id) ?? 0;
    this.#counts.set(id, count + 1);
    this.#registry.register(ref, id);
    if (count === 0) {
      if (owner !== undefined) this.#owners.set(id, owner);
      this.#sink?.acquired(id, owner);
    }
    return this.#generation;
  }

  /** Whether a ref of `generation` belongs to the runtime attached now (or to come). */
  isCurrent(generation: number): boolean {
    return generation === this.#generation;
  }

  #endGeneration(): void {
    this.#generation += 1;
    // Replaced, not cleared: a flush already scheduled then finds nothing of the old generation.
    this.#counts = new Map();
    this.#owners = new Map();
    this.#pendingRelease = [];
    this.#registry = this.#newRegistry();
  }

  /**
   * A registry per generation, so that a ref collected after its generation ended is ignored
   * without a record per ref: the callback knows which generation it was made for.
   */
  #newRegistry(): FinalizationRegistry<string> {
    const generation = this.#generation;
    return new FinalizationRegistry<string>((id) => {
      if (generation === this.#generation) this.#drop(id);
    });
  }

  #drop(id: string): void {
    const count = this.#counts.get(id);
    if (count === undefined) return;
    if (count > 1) {
      this.#counts.set(id, count - 1);
      return;
    }
    this.#counts.delete(id);
    this.#owners.delete(id);
    this.#pendingRelease.push(id);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    // A ref may have been re-created for the same id after the release was queued.
    const ids = this.#pendingRelease.filter((id) => !this.#counts.has(id));
    this.#pendingRelease = [];
    if (ids.length > 0) this.#sink?.released(ids);
  }
}

/** The one tracker of this thread. */
export const refTracker = new RefTracker();
