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

/** Longest id accepted from another process; ours are at most 27 characters (`actor-` and a nextId). */
export const MAX_ID_LENGTH = 64;
/** nanoid's alphabet: letters, digits, `_` and `-`. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Whether `value` has the form of the ids made here: 1 to MAX_ID_LENGTH characters of nanoid's
 * alphabet. Such an id holds no `/`, `\`, `.` or NUL, so it is safe as a file name in a folder.
 */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
