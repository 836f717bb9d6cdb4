/**
 * When a worker's results leave. A run of tiny tasks that return values runs in one turn (see
 * Executor), and their results leave together, at its end: one message to the node, not one per
 * task. A task that runs long would hold back the results before it, so before a call that is
 * not known to be quick, what waits is sent first. A function (or a method of an actor class) is
 * quick while every call of it here has taken less than {@link QUICK_MS}: one slower call makes
 * it not quick for the rest of the worker's life, so a function that is usually fast and
 * sometimes slow holds back the results before it at most once.
 */
export const QUICK_MS = 1;

export class QuickCalls {
  /** Whether each function or method (by the key its caller gives) has always been quick here. */
  readonly #quick = new Map<string, boolean>();
  readonly #flush: () => void;

  /** @param flush sends now what the worker has sent so far. */
  constructor(flush: () => void) {
    this.#flush = flush;
  }

  /** A call of `key` starts. */
  starting(key: string): void {
    if (this.#quick.get(key) !== true) this.#flush();
  }

  /** A call of `key` took `ms`. */
  ended(key: string, ms: number): void {
    if (ms >= QUICK_MS) this.#quick.set(key, false);
    else if (!this.#quick.has(key)) this.#quick.set(key, true);
  }
}
