/**
 * Seeded random numbers for the examples: every task gets its own stream from its seed, so a
 * parallel run gives exactly the results of the same batches run one after another.
 */

/**
 * A small, fast, seedable PRNG: xoshiro128** (Blackman & Vigna), seeded through splitmix32 so
 * that nearby seeds (0, 1, 2, ...) give unrelated streams. Returns uniforms in [0, 1).
 */
export function makeRng(seed: number): () => number {
  let z0 = seed >>> 0;
  const splitmix32 = (): number => {
    z0 = (z0 + 0x9e3779b9) | 0;
    let z = z0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32(), b = splitmix32(), c = splitmix32(), d = splitmix32();
  const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    return (result >>> 0) * 2 ** -32;
  };
}

/** Standard normals by Marsaglia's polar method; each accepted pair yields two. */
export function makeNormal(uniform: () => number): () => number {
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * m;
    hasSpare = true;
    return u * m;
  };
}
