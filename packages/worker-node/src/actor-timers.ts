/**
 * The timers each actor of a worker set, so that killing one actor of a shared worker stops its
 * `setTimeout`s, `setInterval`s and `setImmediate`s without touching its neighbours' (DESIGN,
 * "Actors at scale"). A timer belongs to the actor whose code set it: the actor id of the task
 * scope current at the call, which AsyncLocalStorage carries through awaits and through timers
 * set by timers. Timers set outside any actor (task code, the runtime) are not tracked.
 */
type Clear = () => void;

/** Where the timer functions live: globalThis in a worker. */
export type TimerGlobals = Pick<typeof globalThis, 'setTimeout' | 'setInterval' | 'setImmediate' | 'clearTimeout' | 'clearInterval' | 'clearImmediate'>;

export class ActorTimers {
  /** The pending timers of each actor, by actor id, each with the call that clears it. */
  readonly #pending = new Map<string, Map<object, Clear>>();
  /** The actor of each pending tracked timer. */
  readonly #owner = new WeakMap<object, string>();
  #installed = false;

  /**
   * Wrap the global timer functions (the first call; later ones do nothing). `currentActor` names the actor whose code
   * runs now, or undefined.
   */
  install(currentActor: () => string | undefined, target: TimerGlobals = globalThis): void {
    if (this.#installed) return;
    this.#installed = true;
    const g = target as unknown as Record<string, unknown>;
    const setTimeoutOriginal = target.setTimeout;
    const setIntervalOriginal = target.setInterval;
    const setImmediateOriginal = target.setImmediate;
    const clearTimeoutOriginal = target.clearTimeout;
    const clearIntervalOriginal = target.clearInterval;
    const clearImmediateOriginal = target.clearImmediate;

    const track = <T extends object>(once: boolean, start: (fire: (...args: unknown[]) => unknown) => T, clear: (handle: never) => void,
      callback: unknown): T => {
      const actorId = currentActor();
      if (actorId === undefined || typeof callback !== 'function') return start(callback as (...args: unknown[]) => unknown);
      let timers = this.#pending.get(actorId);
      if (!timers) {
        timers = new Map();
        this.#pending.set(actorId, timers);
      }
      const owned = timers;
      let handle: T | undefined;
      const fire = once
        ? (...args: unknown[]): unknown => {
          if (handle !== undefined) this.#forget(actorId, owned, handle);
          return (callback as (...a: unknown[]) => unknown)(...args);
        }
        : callback as (...args: unknown[]) => unknown;
      handle = start(fire);
      owned.set(handle, () => clear(handle as never));
      this.#owner.set(handle, actorId);
      return handle;
    };

    // The wrappers keep the originals' own properties (util.promisify's custom form among them).
    const like = <F extends object>(wrapper: F, original: object): F => {
      const { prototype: _prototype, ...own } = Object.getOwnPropertyDescriptors(original);
      return Object.defineProperties(wrapper, own);
    };
    g.setTimeout = like((callback: unknown, ms?: number, ...args: unknown[]) =>
      track(true, (fire) => setTimeoutOriginal(fire, ms, ...args), clearTimeoutOriginal, callback), setTimeoutOriginal);
    g.setInterval = like((callback: unknown, ms?: number, ...args: unknown[]) =>
      track(false, (fire) => setIntervalOriginal(fire, ms, ...args), clearIntervalOriginal, callback), setIntervalOriginal);
    g.setImmediate = like((callback: unknown, ...args: unknown[]) =>
      track(true, (fire) => setImmediateOriginal(fire, ...args), clearImmediateOriginal, callback), setImmediateOriginal);
    const untrack = (original: (handle: never) => void) => like((handle: unknown): void => {
      const actorId = handle !== null && typeof handle === 'object' ? this.#owner.get(handle) : undefined;
      const timers = actorId === undefined ? undefined : this.#pending.get(actorId);
      if (actorId !== undefined && timers) this.#forget(actorId, timers, handle as object);
      original(handle as never);
    }, original);
    g.clearTimeout = untrack(clearTimeoutOriginal);
    g.clearInterval = untrack(clearIntervalOriginal);
    g.clearImmediate = untrack(clearImmediateOriginal);
  }

  /** Clear every pending timer of an actor (it was killed). */
  clear(actorId: string): void {
    const timers = this.#pending.get(actorId);
    this.#pending.delete(actorId);
    for (const [handle, clear] of timers ?? []) {
      this.#owner.delete(handle);
      clear();
    }
  }

  /** How many timers of an actor are pending. */
  count(actorId: string): number {
    return this.#pending.get(actorId)?.size ?? 0;
  }

  #forget(actorId: string, timers: Map<object, Clear>, handle: object): void {
    timers.delete(handle);
    this.#owner.delete(handle);
    if (timers.size === 0 && this.#pending.get(actorId) === timers) this.#pending.delete(actorId);
  }
}
