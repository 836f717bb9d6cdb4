/**
 * When a worker's results leave. A run of tiny tasks that return values runs in one turn (see
 * Executor), and their results leave together, at its end: one message to the node, not one per
 * task. A task that runs long would hold back the results before it, so before a call that is
 * not known to be quick, what waits is sent first.
 *
 * A function (or a method of an actor class) is quick while the moving average of its calls'
 * times here (each call weighs {@link WEIGHT}) is under {@link QUICK_MS}; its first call is not
 * known to be quick. The average, not the slowest call: the times are wall-clock, and on a busy
 * machine a tiny call now and then takes milliseconds (the thread was preempted, or collected its
 * garbage); counted as slow for good, such a call had a tiny function's results sent one message
 * per task for the rest of the worker's life (W1 27-33k tasks/s against 35-51k). A function that
 * is slow once is not quick until its average has fallen back (a 10 ms call: the next four calls),
 * so a usually-fast, sometimes-slow function holds back the results before it once per slow call.
 */
export const QUICK_MS = 1;
/** The weight of the latest call in the average. */
export const WEIGHT = 0.2;

interface Times {
  /** The moving average of its calls' times, ms. */
  mean: number;
}

export class QuickCalls {
  readonly #times = new Map<string, Times>();
  readonly #flush: () => void;

  /** @param flush sends now what the worker has sent so far. */
  constructor(flush: () => void) {
    this.#flush = flush;
  }

  /** A call of `key` starts. */
  starting(key: string): void {
    const times = this.#times.get(key);
    if (times === undefined || times.mean >= QUICK_MS) this.#flush();
  }

  /** A call of `key` took `ms`. */
  ended(key: string, ms: number): void {
    const times = this.#times.get(key);
    if (times === undefined) this.#times.set(key, { mean: ms });
    else times.mean += (ms - times.mean) * WEIGHT;
  }
}
