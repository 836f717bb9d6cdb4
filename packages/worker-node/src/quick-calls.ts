/**
 * When a worker's results leave. A run of tiny tasks that return values runs in one turn (see
 * Executor), and their results leave together, at its end: one message to the node, not one per
 * task. A task that runs long would hold back the results before it, so before a call that is
 * not known to be quick, what waits is sent first. A function (or a method of an actor class) is
 * quick when its last call here took less than {@link QUICK_MS}.
 */
export const QUICK_MS = 1;

export class QuickCalls {
  /** How long the last call of each function or method took here, ms, by the key its caller gives. */
  readonly #lastMs = new Map<string, number>();
  readonly #flush: () => void;

  /** @param flush sends now what the worker has sent so far. */
  constructor(flush: () => void) {
    this.#flush = flush;
  }

  /** A call of `key` starts. */
  starting(key: string): void {
    if (!((this.#lastMs.get(key) ?? QUICK_MS) < QUICK_MS)) this.#flush();
  }

  /** A call of `key` took `ms`. */
  ended(key: string, ms: number): void {
    this.#lastMs.set(key, ms);
  }
}
