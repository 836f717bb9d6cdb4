/**
 * Ids for objects, tasks, workers, nodes and jobs. Hot-path ids (objects, tasks) are a random
 * per-process prefix plus a counter: unique across processes, and far cheaper than a random id
 * per task (W1 submits tens of thousands a second).
 */
import { nanoid } from 'nanoid';

const PROCESS_PREFIX = nanoid(10);
let counter = 0;

/** A new id for an object or a task, unique in the cluster. */
export function nextId(): string {
  counter += 1;
  return `${PROCESS_PREFIX}${counter.toString(36)}`;
}

/** A new random id for long-lived things (workers, nodes, jobs). */
export function randomId(prefix: string): string {
  return `${prefix}-${nanoid(12)}`;
}
