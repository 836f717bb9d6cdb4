/**
 * A tree reduction: a dynamic task graph built by passing ObjectRefs between tasks.
 *
 * Computes Σ i² for i in [0, N) as LEAVES leaf tasks (each sums the squares of one range),
 * then combines their results pairwise in a binary tree: each `combine(a, b)` task is
 * submitted with the refs of its two children as arguments, before those children have
 * finished. weft runs `combine` as soon as both children are done and hands it their values,
 * not the refs. The driver builds the whole tree up front, watches the leaves finish with
 * `wait`, then makes one `get` on the root and checks it against the closed form
 * (N−1)·N·(2N−1)/6.
 *
 * Shows: ObjectRefs as task arguments (dependencies), a DAG built without waiting on
 * intermediate results, `wait` to track progress, one `get` at the end.
 *
 * Run:   pnpm tsx examples/tree-reduce.ts
 *
 * Layout rule for weft programs: workers import this very file to find `sumOfSquares` and
 * `combine`, and stop evaluating it at `init()`. So the remote functions are defined above
 * `init()`, and the driver code is below it.
 */
import os from "node:os";
import { init, shutdown, remote, get, wait, ObjectRef } from "@weft/core";

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

/** Leaf: Σ i² for i in [lo, hi). */
export const sumOfSquares = remote(function sumOfSquares(lo: number, hi: number): number {
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += i * i;
  return sum;
});

/** Internal node. The driver passes it two ObjectRefs; it receives their values. */
export const combine = remote(function combine(left: number, right: number): number {
  return left + right;
});

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

await init();

try {
  const LEAVES = 256;
  const N = 2 ** 28; // 268 million terms, 2^20 per leaf
  const perLeaf = N / LEAVES;

  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(2).padStart(5)} s`;

  // Leaves, all submitted at once.
  const leaves: ObjectRef<number>[] = [];
  for (let k = 0; k < LEAVES; k++) leaves.push(sumOfSquares.remote(k * perLeaf, (k + 1) * perLeaf));

  // The tree, level by level, before any result is known: each combine depends on two refs.
  let level = leaves;
  let combines = 0;
  let depth = 0;
  while (level.length > 1) {
    const next: ObjectRef<number>[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(combine.remote(level[i]!, level[i + 1]!));
      combines++;
    }
    if (level.length % 2 === 1) next.push(level.at(-1)!); // an odd one out moves up a level
    level = next;
    depth++;
  }
  const root = level[0]!;
  console.log(`submitted ${LEAVES} leaves and ${combines} combines (tree depth ${depth}) ` +
    `on ${os.availableParallelism()} workers in ${elapsed()}`);

  // Progress: wait returns refs as they complete, in completion order.
  let pending = leaves;
  let done = 0;
  while (pending.length > 0) {
    const result = await wait(pending, { numReturns: 1 });
    done += result.ready.length;
    pending = result.pending;
    if (done % 32 === 0 || pending.length === 0) console.log(`${elapsed()}  leaves done: ${String(done).padStart(3)} / ${LEAVES}`);
  }

  const total = await get(root); // the only get
  console.log(`${elapsed()}  root ready`);

  // Closed form, exactly, in BigInt; the float sum is compared to it with a relative
  // tolerance, since sums above 2^53 are rounded.
  const n = BigInt(N);
  const exact = ((n - 1n) * n * (2n * n - 1n)) / 6n;
  const relativeError = Math.abs(total - Number(exact)) / Number(exact);
  console.log(`\nΣ i² for i < 2^28   ${total.toExponential(15)}`);
  console.log(`closed form         ${exact} (≈ ${Number(exact).toExponential(15)})`);
  console.log(`relative error      ${relativeError.toExponential(2)}  ${relativeError < 1e-12 ? "OK" : "TOO LARGE"}`);
  if (relativeError >= 1e-12) process.exitCode = 1;
} finally {
  await shutdown();
}
