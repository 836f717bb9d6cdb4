/**
 * A task as the local scheduler tracks it, and what the scheduler needs from the rest of the
 * cluster (the node provides it).
 */
import { argumentObjectIds, type TaskEvent, type TaskSpec } from '@weft/protocol';
import type { TaskGroup } from './task-groups.ts';
import type { WorkerHandle } from './worker-pool.ts';

/** How the scheduler reaches the rest of the cluster. */
export interface ClusterLink {
  /** Send a task this node will not run to the head, which places it elsewhere. */
  spill(task: TaskSpec, owner: string): void;
  /** Other nodes: what they can take now (free CPUs plus a short queue), their CPUs and queued tasks in all. */
  remoteView(): { free: number; cpus: number; queued: number };
  /** Cancel a spilled task on the node running it. */
  cancelRemote(nodeId: string, taskId: string): void;
}

/** A task on this node. */
export interface TaskRecord {
  readonly spec: TaskSpec;
  /** 'spilled': sent to another node, which will return its result. */
  state: 'waiting' | 'queued' | 'assigned' | 'running' | 'spilled' | 'finished';
  /** The node that owns the result when the task came from another node; absent: this node. */
  readonly ownerNode: string | undefined;
  /** Whether it was placed here by the head (it is never spilled again). */
  readonly placed: boolean;
  /** Where the head sent it, when spilled. */
  placedOn: string | undefined;
  missingDeps: number;
  /** Retries so far, after worker deaths and (with retryExceptions) exceptions: one budget, as in Ray. */
  retries: number;
  /** A generator task that yielded a value: it is not run again (see LocalScheduler.yielded). Absent: not yet. */
  yielded?: boolean;
  worker: WorkerHandle | undefined;
  /** Open get/wait calls of the running task; > 0: blocked, its CPUs lent. */
  waits: number;
  /** The calls of its function it runs beside, sharing their resources (maxConcurrency > 1); absent: none. */
  group?: TaskGroup | undefined;
  /** Ids pinned for the task's arguments, unpinned when it finishes. */
  readonly pinned: string[];
  /** Its event in the node's task log (see TaskLog); undefined: not logged here. */
  event: TaskEvent | undefined;
  /** The task log's outbox batch its event was last put in (see TaskLog). */
  eventBatch: number;
}

/** How many tasks are in each state, kept as their records change (a heartbeat reads it: no walk over every task). */
export type StateCounts = Record<TaskRecord['state'], number>;

/** A task record whose state changes are counted in `counts`. */
class CountedTask implements TaskRecord {
  placedOn: string | undefined = undefined;
  missingDeps = 0;
  retries = 0;
  yielded?: boolean;
  worker: WorkerHandle | undefined = undefined;
  waits = 0;
  group?: TaskGroup | undefined;
  event: TaskEvent | undefined = undefined;
  eventBatch = 0;
  #state: TaskRecord['state'] = 'waiting';
  readonly placed: boolean;
  readonly pinned: string[];

  constructor(readonly spec: TaskSpec, readonly ownerNode: string | undefined, private readonly counts: StateCounts) {
    this.placed = ownerNode !== undefined;
    this.pinned = argumentObjectIds(spec);
    counts.waiting += 1;
  }

  get state(): TaskRecord['state'] {
    return this.#state;
  }

  set state(next: TaskRecord['state']) {
    this.counts[this.#state] -= 1;
    this.counts[next] += 1;
    this.#state = next;
  }
}

/** Counts of no task. */
export function noTasks(): StateCounts {
  return { waiting: 0, queued: 0, assigned: 0, running: 0, spilled: 0, finished: 0 };
}

/** A new record of a task waiting for its arguments, pinning them (and the refs inside them); its states are counted in `counts`. */
export function newTaskRecord(spec: TaskSpec, ownerNode: string | undefined, counts: StateCounts = noTasks()): TaskRecord {
  return new CountedTask(spec, ownerNode, counts);
}
