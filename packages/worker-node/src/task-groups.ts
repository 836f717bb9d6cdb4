/**
 * Overlapping calls (`remote({ maxConcurrency: N }, async function …)`, TaskSpec.maxConcurrency):
 * up to N calls of one function run together in a worker, interleaved at their awaits, and share
 * the resources the first one took (Ray's async actors, piscina's concurrentTasksPerWorker). The
 * local scheduler keeps one group per worker running such calls; the count of a group's calls is
 * kept here, on the node, which decides what each worker runs: the worker starts a call it is told
 * to join at once, and never counts to N itself.
 *
 * A group's life:
 *
 *   opened ──(first call starts on a worker: the group takes the call's resources)
 *     │  ◀── a queued call of the function joins while fewer than N run there (takes nothing)
 *     │  ◀─▶ every call waits in get/wait: the resources are lent, and taken back on return
 *     ▼
 *   closed ──(its last call left: done, cancelled or its worker died; the resources go back)
 *
 * Calls join only when they reach the head of the node's queue (first in, first out), so a
 * function with many queued calls cannot keep its CPU from a task queued before them: the group
 * drains, and the CPU goes to that task.
 */
import type { TaskSpec } from '@weft/protocol';
import type { WorkerHandle } from './worker-pool.ts';

/** Calls of one function running together in one worker. */
export interface TaskGroup {
  readonly key: string;
  readonly worker: WorkerHandle;
  /** Calls that may run in it at once (the function's maxConcurrency). */
  readonly limit: number;
  /** Its calls running in the worker: started and not finished. */
  members: number;
  /** Members not waiting in get/wait: the group holds its resources while this is above 0. */
  holding: number;
}

/** Whether calls of this task may overlap in one worker (maxConcurrency > 1). */
export function overlaps(spec: TaskSpec): boolean {
  return (spec.maxConcurrency ?? 1) > 1;
}

/** Calls share a group when they have the same job, function, limit and resources. */
export function groupKey(spec: TaskSpec): string {
  const resources = Object.keys(spec.resources).sort().map((name) => `${name}=${String(spec.resources[name])}`).join(',');
  return [spec.jobId, spec.fn.module, spec.fn.name, String(spec.maxConcurrency ?? 1), resources].join('\0');
}

/**
 * The group a queued call joins: among those with room whose worker takes tasks, the one with the
 * fewest calls (the least loaded event loop); undefined when none has room.
 */
export function pickGroup(groups: readonly TaskGroup[], takesTasks: (worker: WorkerHandle) => boolean): TaskGroup | undefined {
  let best: TaskGroup | undefined;
  for (const group of groups) {
    if (group.members >= group.limit || !takesTasks(group.worker)) continue;
    if (!best || group.members < best.members) best = group;
  }
  return best;
}

/** The open groups of a node, by key. */
export class TaskGroups {
  readonly #byKey = new Map<string, TaskGroup[]>();

  constructor(private readonly takesTasks: (worker: WorkerHandle) => boolean) {}

  /** A group the queued call `spec` may join now, if any. */
  roomFor(spec: TaskSpec): TaskGroup | undefined {
    if (!overlaps(spec)) return undefined;
    const groups = this.#byKey.get(groupKey(spec));
    return groups && pickGroup(groups, this.takesTasks);
  }

  /** The first call of `spec`'s function started on `worker`: a group of one, holding nothing yet. */
  open(spec: TaskSpec, worker: WorkerHandle): TaskGroup {
    const key = groupKey(spec);
    const group: TaskGroup = { key, worker, limit: spec.maxConcurrency ?? 1, members: 1, holding: 0 };
    const groups = this.#byKey.get(key);
    if (groups) groups.push(group);
    else this.#byKey.set(key, [group]);
    return group;
  }

  /** A queued call joins `group`. */
  join(group: TaskGroup): void {
    group.members += 1;
  }

  /** A call left `group`; the group closes with its last call. */
  leave(group: TaskGroup): void {
    group.members -= 1;
    if (group.members > 0) return;
    const groups = this.#byKey.get(group.key) ?? [];
    const rest = groups.filter((other) => other !== group);
    if (rest.length > 0) this.#byKey.set(group.key, rest);
    else this.#byKey.delete(group.key);
  }

  /** How many groups are open, for tests. */
  get size(): number {
    let count = 0;
    for (const groups of this.#byKey.values()) count += groups.length;
    return count;
  }
}

/** A member starts holding (it started, or its get returned): true when the group takes its resources now. */
export function hold(group: TaskGroup): boolean {
  group.holding += 1;
  return group.holding === 1;
}

/** A member stops holding (it waits in get, or left): true when the group gives its resources back now. */
export function lend(group: TaskGroup): boolean {
  group.holding -= 1;
  return group.holding === 0;
}
