/**
 * Counts the live ObjectRef instances of each id in this process and reports the first and the
 * last of them to whoever owns reference counting here (the client runtime), which tells the
 * node. The last one is detected with a FinalizationRegistry, so a driver never has to release
 * refs by hand; releases are batched because GC finalizes in bursts.
 */

/** Receives the holds of this process. */
export interface RefSink {
  /** This process now holds `id` (its first live ObjectRef appeared); `owner`: the owning node, if known. */
  acquired(id: string, owner: string | undefined): void;
  /** This process no longer holds any of `ids`. */
  released(ids: string[]): void;
}

class RefTracker {
  readonly #counts = new Map<string, number>();
  readonly #owners = new Map<string, string>();
  readonly #registry = new FinalizationRegistry<string>((id) => this.#drop(id));
  #pendingRelease: string[] = [];
  #flushScheduled = false;
  #sink: RefSink | undefined;

  /** Route holds to `sink`; ids already held are reported to it at once. */
  attach(sink: RefSink | undefined): void {
    this.#sink = sink;
    if (sink) for (const id of this.#counts.keys()) sink.acquired(id, this.#owners.get(id));
  }

  /** Count a new ObjectRef instance. */
  track(ref: object, id: string, owner: string | undefined): void {
    const count = this.#counts.get(id) ?? 0;
    this.#counts.set(id, count + 1);
    this.#registry.register(ref, id);
    if (count === 0) {
      if (owner !== undefined) this.#owners.set(id, owner);
      this.#sink?.acquired(id, owner);
    }
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
