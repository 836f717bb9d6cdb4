/**
 * The remote function of W11 (the result cache), in a module of its own: workers import it to
 * find the function, so it imports nothing but the public API and runs no driver code.
 */
import { remote } from "@weft/core";

/** W11: the array 0, 1, …, n - 1 (10 MB at the bench's size); computed once, then served by the cache. */
export const ramp = remote(function ramp(n: number): Float64Array {
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = i;
  return xs;
});
