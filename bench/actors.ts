/**
 * The actor of the weft benchmarks (W3a, W3b, W3n). It lives in a module of its own, exported,
 * because workers find an actor class by module and name and import this file; so it imports
 * nothing but the public API and runs no driver code.
 */
import { Actor } from "@weft/core";

/** W3: the Counter of BENCHMARKS.md, all framework and no work. Sync methods: calls run one at a time. */
export class Counter extends Actor {
  n = 0;
  constructor(start = 0) {
    super();
    this.n = start;
  }
  inc(by = 1): number {
    return (this.n += by);
  }
  value(): number {
    return this.n;
  }
}
