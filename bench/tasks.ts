/**
 * The remote functions of the weft benchmarks. They live at the top level of their own module
 * because workers find a remote function by module and name and import this file; so it
 * imports nothing but the public API and the pi kernel, and runs no driver code.
 */
import { get, getRuntimeContext, remote } from "@weft/core";
import { piHits } from "./pi-kernel.mjs";

/** W1, W2, warm-up and W6's children: the tiny task f(i) = i, all framework and no work. */
export const tiny = remote(function tiny(i: number): number {
  return i;
});

/** W4: sums a Float64Array that arrives through the object store. */
export const sum = remote(function sum(a: Float64Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i] as number;
  return total;
});

/** W4x (cluster): makes an array of `n` ones where the task runs, so the object lives on that node. */
export const ones = remote(function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
});

/** W4x (cluster): sums an array made on another node and says where it ran, so the bench can check the bytes crossed. */
export const sumWhere = remote(function sumWhere(a: Float64Array): [number, string] {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += a[i] as number;
  return [total, getRuntimeContext().nodeId];
});

/** W4x (cluster): the node a task runs on, to check that custom resources pin tasks where asked. */
export const nodeOf = remote(function nodeOf(): string {
  return getRuntimeContext().nodeId;
});

/** W5: a leaf of the reduction tree. */
export const leaf = remote(function leaf(i: number): number {
  return i;
});

/** W5: an inner node of the reduction tree; the driver passes refs, workers receive numbers. */
export const add = remote(function add(a: number, b: number): number {
  return a + b;
});

/**
 * W6: nested parallelism. Submits `children` tiny tasks from inside a task and gets them,
 * which must not deadlock the node (a worker blocked in `get` gives its CPU back).
 */
export const parent = remote(async function parent(p: number, children: number): Promise<number> {
  const refs = Array.from({ length: children }, (_, j) => tiny.remote(p * children + j));
  const values = await get(refs);
  return values.reduce((s, v) => s + v, 0);
});

/** W10: about 1 ms of CPU work, then the item. */
export const spinItem = remote(function spinItem(i: number): number {
  const end = performance.now() + 1;
  while (performance.now() < end) { /* work */ }
  return i;
});

/** W7: one Monte Carlo pi task of `samples` points; the same kernel as the piscina baseline. */
export const pi = remote(function pi(samples: number, seed: number): number {
  return piHits(samples, seed);
});
