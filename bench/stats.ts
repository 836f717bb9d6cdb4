/**
 * Small statistics and timing helpers shared by every workload of `pnpm bench`.
 * No dependencies, so the baseline half can run before the runtime exists.
 */

/** A figure summarised over the runs: what the table prints and the JSON stores. */
export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = (): number => performance.now();

/** Seconds elapsed since `startMs` (a value of {@link now}). */
export const secondsSince = (startMs: number): number => (now() - startMs) / 1000;

/**
 * The `q`-quantile (0..1) of `xs` by nearest rank on a sorted copy. Nearest rank, not
 * interpolation, so that p99 of 1,000 samples is an observed sample (the 990th).
 */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) throw new RangeError("quantile of an empty list");
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * The median of `xs`; for an even count the mean of the middle two, which matters for
 * `--runs 2` and is what people expect from "median".
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError("median of an empty list");
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

/** Median, min and max of the per-run values of one figure. */
export function summarise(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * Per-run samples, keyed by figure name (`W1.tasks_per_s`, `piscina.W2.median_us`, ...).
 * Figures appear in the order they were first recorded, which keeps the table stable.
 */
export class FigureLog {
  readonly #samples = new Map<string, number[]>();

  /** Records one run's value of `name`. */
  add(name: string, value: number): void {
    const list = this.#samples.get(name);
    if (list) list.push(value);
    else this.#samples.set(name, [value]);
  }

  /** Every figure with its summary over the runs recorded so far. */
  summaries(): Map<string, Summary> {
    const out = new Map<string, Summary>();
    for (const [name, xs] of this.#samples) out.set(name, summarise(xs));
    return out;
  }
}
