/**
 * Resource arithmetic on `{ CPU: 2, gpu: 1 }` maps. Amounts may go below zero: a task that
 * resumes after waiting in `get` takes its CPUs back even when others borrowed them, as in Ray.
 */
import type { ResourceSet } from '@weft/core';

/** Whether `have` covers every amount in `need`. */
export function fits(need: ResourceSet, have: ResourceSet): boolean {
  for (const name in need) {
    const amount = need[name] as number;
    if (amount > 0 && (have[name] ?? 0) < amount - 1e-9) return false;
  }
  return true;
}

/** Subtract `amounts` from `from`, in place. */
export function take(from: ResourceSet, amounts: ResourceSet): void {
  for (const name in amounts) from[name] = (from[name] ?? 0) - (amounts[name] as number);
}

/** Add `amounts` to `to`, in place. */
export function give(to: ResourceSet, amounts: ResourceSet): void {
  for (const name in amounts) to[name] = (to[name] ?? 0) + (amounts[name] as number);
}

/** `{ CPU: 2, gpu: 1 }` as "2 CPU, 1 gpu" for messages. */
export function describeResources(resources: ResourceSet): string {
  const parts = Object.entries(resources).map(([name, amount]) => `${amount} ${name}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
