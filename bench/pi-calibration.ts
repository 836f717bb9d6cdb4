/**
 * Sizes the W7 pi task for this machine. BENCHMARKS.md specifies tasks of ~0.45 s, not a
 * sample count, and the machines differ; weft and piscina then run the same count.
 */
import { W7_TASK_S } from "./config.ts";
import { piHits } from "./pi-kernel.mjs";
import { now } from "./stats.ts";

/** Shortest timed pass: long enough that timer resolution and one GC do not matter. */
const MIN_PASS_MS = 150;

/**
 * Returns the sample count for which one {@link piHits} call takes about `targetS` seconds on
 * this thread. Takes the fastest of three passes, because the first pass includes compilation
 * and a busy neighbour on a shared VM only ever makes a pass slower.
 */
export function calibratePiSamples(targetS: number = W7_TASK_S): number {
  let bestPerMs = 0;
  for (let pass = 0; pass < 3; pass++) {
    let samples = 1_000_000;
    for (;;) {
      const t0 = now();
      piHits(samples, pass);
      const ms = now() - t0;
      if (ms >= MIN_PASS_MS) {
        bestPerMs = Math.max(bestPerMs, samples / ms);
        break;
      }
      samples *= 2;
    }
  }
  return Math.round(bestPerMs * targetS * 1000);
}
