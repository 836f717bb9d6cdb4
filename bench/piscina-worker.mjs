// piscina baseline worker: the same task bodies as bench/tasks.ts, as plain ESM so that
// piscina loads it with no TypeScript loader in the worker (the baseline must not pay for tsx).
import { piHits } from "./pi-kernel.mjs";

/** W1/W2/W5/W6 baseline: the tiny task f(i) = i. */
export function tiny(i) {
  return i;
}

/** W8 baseline (chunked): the tiny task over a chunk of items, as a user hand-batching piscina would. */
export function tinyChunk(items) {
  const out = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = tiny(items[i]);
  return out;
}

/** W7 baseline: one Monte Carlo pi task; `{ samples, seed }` because piscina passes one value. */
export function pi({ samples, seed }) {
  return piHits(samples, seed);
}
