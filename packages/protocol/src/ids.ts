/**
 * Ids for objects, tasks, workers, nodes and jobs. Hot-path ids (objects, tasks) are the tag of
 * the node that owns them, a random per-process prefix and a counter: unique across processes,
 * far cheaper than a random id per task (W1 submits tens of thousands a second), and every node
 * that meets an id knows its owner (ownerOf), whichever way the id travelled, as Ray's
 * ObjectRefs carry their owner's address.
 */
import { nanoid } from 'nanoid';

/** Characters of a node id after `node-` (randomId's nanoid), which open the ids of its objects. */
const NODE_TAG_LENGTH = 12;
const PROCESS_PREFIX_LENGTH = 8;
const PROCESS_PREFIX = nanoid(PROCESS_PREFIX_LENGTH);
/** The tag of ids whose owner is not a node id of ours (then ownerOf says unknown). */
const NO_TAG = '_'.repeat(NODE_TAG_LENGTH);
let counter = 0;

/**
 * A new id for an object or a task, unique in the cluster, owned by the node `owner` (the node
 * of the process that makes it: a driver's node, a worker's node).
 */
export function nextId(owner: string): string {
  counter += 1;
  const tag = owner.length === NODE_TAG_LENGTH + 5 && owner.startsWith('node-') ? owner.slice(5) : NO_TAG;
  return `${tag}${PROCESS_PREFIX}${counter.toString(36)}`;
}

/** The node that owns the object or task `id` (made by nextId); undefined when it cannot be told. */
export function ownerOf(id: string): string | undefined {
  if (id.length <= NODE_TAG_LENGTH + PROCESS_PREFIX_LENGTH) return undefined;
  const tag = id.slice(0, NODE_TAG_LENGTH);
  return tag === NO_TAG ? undefined : `node-${tag}`;
}

/**
 * The id of the `index`-th value (from 0) that the generator task `taskId` yields: the task's id,
 * `-` and the index in decimal. Derived, not drawn, so that the node running the task, its owner
 * and the consumer name the item alike without telling each other. It keeps the task's prefix, so
 * ownerOf names the task's owner; it is unique, as nextId's counter (base 36) never holds a `-`;
 * and it stays an id (isId) for any safe integer index (16 digits at most; a task id has at most
 * 27 characters).
 */
export function yieldId(taskId: string, index: number): string {
  return `${taskId}-${index}`;
}

/** A new random id for long-lived things (workers, nodes, jobs). A node's is `node-` and 12 characters. */
export function randomId(prefix: string): string {
  return `${prefix}-${nanoid(NODE_TAG_LENGTH)}`;
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
