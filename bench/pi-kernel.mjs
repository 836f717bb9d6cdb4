// Monte Carlo pi kernel for W7, shared by the weft task (bench/tasks.ts) and the piscina
// worker (bench/piscina-worker.mjs) so that both sides run byte-for-byte the same loop.
// Plain JavaScript because the piscina worker must load it without a TypeScript loader;
// its types are in pi-kernel.d.mts.

/**
 * Counts how many of `samples` pseudo-random points in the unit square fall inside the
 * quarter circle. xorshift32 rather than Math.random so the work per task is identical
 * across runs and threads and does not depend on the engine's RNG implementation.
 */
export function piHits(samples, seed) {
  let s = (Math.imul(seed + 1, 2654435761) >>> 0) || 1;
  let hits = 0;
  for (let i = 0; i < samples; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    const x = (s >>> 0) / 4294967296;
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    const y = (s >>> 0) / 4294967296;
    if (x * x + y * y <= 1) hits++;
  }
  return hits;
}
