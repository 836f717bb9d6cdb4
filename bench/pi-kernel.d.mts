/**
 * Counts how many of `samples` pseudo-random points (xorshift32 seeded by `seed`) in the unit
 * square fall inside the quarter circle; 4 * hits / samples estimates pi.
 */
export declare function piHits(samples: number, seed: number): number;
