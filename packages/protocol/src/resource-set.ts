/**
 * Arithmetic on resource sets (`{ CPU: 2, gpu: 1 }`), for the node's local scheduler and the
 * head's global one. Names come from other processes, so amounts are read as own properties only:
 * a task asking for `constructor` or `toString` must not find Object.prototype's, and adding to a
 * set must not write through `__proto__`. Amounts may go below zero: a task that resumes after
 * waiting in `get` takes its CPUs back even when others borrowed them, as in Ray.
 */
import type { ResourceSet } from './messages.ts';

/** The amount of `name` in `set`; 0 when absent. */
export function amountOf(set: ResourceSet, name: string): number {
  return Object.hasOwn(set, name) ? (set[name] as number) : 0;
}

/** Sets `name` as an own property, even `__proto__` (which plain assignment would treat as the prototype). */
function setAmount(set: ResourceSet, name: string, amount: number): void {
  if (name === '__proto__') Object.defineProperty(set, name, { value: amount, writable: true, enumerable: true, configurable: true });
  else set[name] = amount;
}

/** Whether `have` covers every amount in `need`. */
export function fits(need: ResourceSet, have: ResourceSet): boolean {
  for (const name of Object.keys(need)) {
    const amount = need[name] as number;
    if (amount > 0 && amountOf(have, name) < amount - 1e-9) return false;
  }
  return true;
}

/** Subtract `amounts` from `from`, in place. */
export function take(from: ResourceSet, amounts: ResourceSet): void {
  for (const name of Object.keys(amounts)) setAmount(from, name, amountOf(from, name) - (amounts[name] as number));
}

/** Add `amounts` to `to`, in place. */
export function give(to: ResourceSet, amounts: ResourceSet): void {
  for (const name of Object.keys(amounts)) setAmount(to, name, amountOf(to, name) + (amounts[name] as number));
}

/** The sum of `sets`, name by name. */
export function sumOf(sets: Iterable<ResourceSet>): ResourceSet {
  const total: ResourceSet = {};
  for (const set of sets) give(total, set);
  return total;
}

/** `{ CPU: 2, gpu: 1 }` as "2 CPU, 1 gpu", for messages; "nothing" for an empty set. */
export function describeResources(resources: ResourceSet): string {
  const parts = Object.entries(resources).map(([name, amount]) => `${amount} ${name}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}
