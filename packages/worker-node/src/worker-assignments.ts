/**
 * What the local scheduler's workers hold: the tasks sent to each worker, which of them is active
 * there, and the node's resources they take. A task sent to a worker is assigned (in its backlog)
 * until the worker has no active task, as the worker itself does, and then running; a running task
 * holds its resources, lends them while it waits in get (its worker's next task starts on them) and
 * takes them back when the get returns, even if that oversubscribes. Overlapping calls of a
 * function (task-groups.ts) hold their resources once, as a group. The scheduler decides what goes
 * where; this keeps the counts in step.
 */
import type { EncodedValue, ResourceSet, TaskSpec } from '@weft/protocol';
import type { ObjectStore } from './object-store.ts';
import { fits, give, take } from './resources.ts';
import type { RunTimes } from './run-times.ts';
import type { TaskLog } from './task-log.ts';
import type { TaskRecord } from './task-record.ts';
import { TaskGroups, hold, lend, overlaps, type TaskGroup } from './task-groups.ts';
import { takesTasks, type WorkerHandle } from './worker-pool.ts';

/** Tasks are sent ahead behind a tiny task only this long after it started. */
const PIPELINE_BEHIND_MS = 5;

export class WorkerAssignments {
  readonly #available: ResourceSet;
  /** A worker with tasks sent ahead starts those before more calls join a group there. */
  readonly #groups = new TaskGroups((worker) => takesTasks(worker) && worker.backlog.length === 0);

  /**
   * @param total the node's resources, all free at first
   * @param store where the values of tasks' arguments are, sent with each task
   * @param record the scheduler's record of a task, by id (a backlog holds ids)
   */
  constructor(
    total: ResourceSet,
    private readonly store: ObjectStore,
    private readonly taskLog: TaskLog,
    private readonly runTimes: RunTimes,
    private readonly record: (taskId: string) => TaskRecord | undefined,
  ) {
    this.#available = { ...total };
  }

  /** Resources not held by running tasks and actors. */
  available(): ResourceSet {
    return { ...this.#available };
  }

  /** Whether `resources` are free now. */
  isFree(resources: ResourceSet): boolean {
    return fits(resources, this.#available);
  }

  /** Take `held` if `needed` is free now (an actor being placed); false otherwise. */
  reserve(needed: ResourceSet, held: ResourceSet): boolean {
    if (!fits(needed, this.#available)) return false;
    take(this.#available, held);
    return true;
  }

  /** Give back what `reserve` took. */
  release(held: ResourceSet): void {
    give(this.#available, held);
  }

  /** A group of running calls of `spec`'s function that the queued call may join now, if any. */
  roomFor(spec: TaskSpec): TaskGroup | undefined {
    return this.#groups.roomFor(spec);
  }

  /**
   * Send a task to a worker; it starts there when the worker has no active task, or at once when
   * it joins `group` (the running calls of its function there), taking nothing more.
   */
  assign(task: TaskRecord, worker: WorkerHandle, group?: TaskGroup): void {
    task.state = group ? 'running' : 'assigned';
    task.worker = worker;
    worker.tasks.add(task.spec.taskId);
    if (group) {
      this.#groups.join(group);
      task.group = group;
      this.taskLog.started(task, worker.id);
      this.#hold(task, worker);
    } else {
      worker.backlog.push(task.spec.taskId);
    }
    const argValues: Array<[string, EncodedValue]> = [];
    for (const [, id] of task.spec.argRefs) {
      const result = this.store.get(id)?.result;
      if (result?.status === 'ok') argValues.push([id, result.value]);
    }
    worker.conn.send(group ? { type: 'execute-task', task: task.spec, argValues, join: true } : { type: 'execute-task', task: task.spec, argValues });
  }

  /** Start the worker's next tasks as the worker itself does: whenever none is active. */
  promote(worker: WorkerHandle): void {
    while (worker.active === 0) {
      const taskId = worker.backlog.shift();
      if (taskId === undefined) return;
      const task = this.record(taskId);
      if (!task || task.state !== 'assigned') continue;
      task.state = 'running';
      this.taskLog.started(task, worker.id);
      if (overlaps(task.spec)) task.group = this.#groups.open(task.spec, worker);
      this.#hold(task, worker);
      worker.shape = task.spec.resources;
      worker.aheadUntil = !task.group && this.runTimes.isTiny(task.spec) ? performance.now() + PIPELINE_BEHIND_MS : 0;
    }
  }

  /**
   * The task `task`, sent to `worker`, waits in get/wait. True when it lent its resources now (the
   * worker may start its next task on them); false when it waited already, or is not running.
   */
  blocked(task: TaskRecord, worker: WorkerHandle): boolean {
    if (task.state === 'assigned') {
      // The worker started it before this node's view did (see LocalScheduler.taskDone): it starts
      // here already waiting, holding nothing.
      const backlog = worker.backlog;
      backlog.splice(backlog.indexOf(task.spec.taskId), 1);
      task.state = 'running';
      task.waits = 1;
      return false;
    }
    if (task.state !== 'running') return false;
    task.waits += 1;
    if (task.waits > 1) return false;
    this.#lend(task, worker);
    return true;
  }

  /** The task's get/wait returned: it takes its resources back (even if that oversubscribes). */
  unblocked(task: TaskRecord): void {
    if (task.state !== 'running' || !task.worker || task.waits === 0) return;
    task.waits -= 1;
    if (task.waits > 0) return;
    this.#hold(task, task.worker);
  }

  /** The task leaves its worker (done, cancelled, or the worker died): what it held goes back. */
  leave(task: TaskRecord): void {
    const worker = task.worker;
    if (!worker) return;
    worker.tasks.delete(task.spec.taskId);
    if (task.state === 'assigned') {
      const index = worker.backlog.indexOf(task.spec.taskId);
      if (index >= 0) worker.backlog.splice(index, 1);
    } else if (task.waits === 0) {
      this.#lend(task, worker);
    }
    if (task.group) this.#groups.leave(task.group);
    task.group = undefined;
    task.waits = 0;
    task.worker = undefined;
  }

  /** A running task holds its resources (it started, or its get returned); a group's calls hold them once. */
  #hold(task: TaskRecord, worker: WorkerHandle): void {
    worker.active += 1;
    if (!task.group || hold(task.group)) take(this.#available, task.spec.resources);
  }

  /** A running task lends its resources (it waits in get) or gives them back (it left); a group's, with its last holder. */
  #lend(task: TaskRecord, worker: WorkerHandle): void {
    worker.active -= 1;
    if (!task.group || lend(task.group)) give(this.#available, task.spec.resources);
  }
}
