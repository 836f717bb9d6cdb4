/**
 * The head's task table: every task the nodes report (`task-events`, batched with their
 * heartbeats), grouped by job, with its state, node, worker, times and dependencies — the
 * dynamic task graph of each job — and a bounded history of finished tasks. `weft list tasks`,
 * the state API, the timeline, the metrics and the dashboard read it; the dashboard's live view
 * follows it through `subscribe`.
 *
 * A node sends a task as it is at each batch, so a report replaces the row (keeping the first
 * submission time and the dependencies): a task spilled from node A to node B is reported by A
 * (waiting) and then by B (queued, running, finished) in that order, as A's report left before
 * its spill and B heard of the task after it. Rows are never changed in place: a listener may keep
 * the rows it was given.
 *
 * Bounds: finished and failed tasks are kept up to `historySize` (the oldest finished go first,
 * whatever their job); tasks not finished up to `maxLiveTasks` (more are counted as dropped, as
 * are the events nodes dropped). Cost: in embedded mode the head shares the driver's thread, so a
 * report costs a few Map operations and no copy (the table takes the events it is given); the
 * changes listeners receive are gathered only while there are listeners. A job whose driver left has its unfinished tasks ended as
 * cancelled (its nodes cancel them, and their reports follow); a dead node's as NODE_DIED (a
 * task its owner runs again elsewhere is reported again from there).
 */
import { ERROR_CODES, logger, type TaskEvent } from '@weft/protocol';

/** A task's state in the table. */
export type TaskState = TaskEvent['state'];

/** A task as the table keeps it: its latest report, with its job always named. */
export interface TaskRow extends TaskEvent {
  /** The job; UNKNOWN_JOB when the reporting node did not say. */
  jobId: string;
}

/** A dependency edge of a job's graph: `to` took the object `objectId` that `from` makes. */
export interface TaskEdge {
  from: string;
  to: string;
  objectId: string;
}

/** What one change of the table did, as listeners receive it. */
export interface TaskTableChanges {
  /** Rows added or changed, as they are now. */
  tasks: TaskRow[];
  /** Those of `tasks` that finished or failed for the first time (durations, counts). */
  finished: TaskRow[];
  /** Ids of tasks the history no longer keeps. */
  removed: string[];
}

/** A job's share of the table. */
export interface JobTasks {
  jobId: string;
  /** Whether its driver left (the head was told). */
  finished: boolean;
  /** Its tasks in the table, by state. */
  counts: Record<TaskState, number>;
}

/** The table, or one job's part of it. */
export interface TaskTableSnapshot {
  tasks: TaskRow[];
  /** Dependencies between those tasks whose producer is in the table. */
  edges: TaskEdge[];
  jobs: JobTasks[];
  /** Task events lost since the head started (dropped by nodes or over maxLiveTasks). */
  dropped: number;
}

/** Options of a task table. */
export interface TaskTableOptions {
  /** Finished and failed tasks kept. @default 10_000 */
  historySize?: number;
  /** Tasks not finished kept at most. @default 100_000 */
  maxLiveTasks?: number;
}

/** Called with each non-empty change of the table. */
export type TaskTableListener = (changes: TaskTableChanges) => void;

/** Finished jobs whose state (`JobTasks.finished`) is remembered. */
const MAX_FINISHED_JOBS = 1_000;

/** The job of rows whose node did not name one. */
export const UNKNOWN_JOB = 'unknown';

const isDone = (state: TaskState): boolean => state === 'finished' || state === 'failed';
const noCounts = (): Record<TaskState, number> => ({ waiting: 0, queued: 0, running: 0, finished: 0, failed: 0 });

export class TaskTable {
  readonly historySize: number;
  readonly maxLiveTasks: number;
  readonly #rows = new Map<string, TaskRow>();
  /**
   * Ids of rows in the order they finished (stale ones too: rows that ran again or finished
   * again), consumed from #oldest. Evicting by iterating a Map or Set from its start instead would
   * walk over every deleted slot V8 keeps there until it rehashes, which made a burst quadratic.
   */
  #order: string[] = [];
  #oldest = 0;
  /** Jobs whose driver left, the last MAX_FINISHED_JOBS. */
  readonly #finishedJobs = new Set<string>();
  /** Rows that were finished and run again: their duration and count were taken already. */
  readonly #reopened = new Set<string>();
  readonly #counts = noCounts();
  readonly #totals = { finished: 0, failed: 0 };
  readonly #listeners = new Set<TaskTableListener>();
  /**
   * Rows with a dependency whose producer is not in the table yet, by the id that producer would
   * have: nodes report in their own batches, so a task may come before the task that made its
   * argument (made on another node). Its edge is added when the producer comes.
   */
  readonly #awaiting = new Map<string, Set<string>>();
  #dropped = 0;
  readonly #log = logger('task-table');

  constructor(options: TaskTableOptions = {}) {
    this.historySize = options.historySize ?? 10_000;
    this.maxLiveTasks = options.maxLiveTasks ?? 100_000;
    if (!(this.historySize >= 0)) throw new RangeError(`historySize must be >= 0, got ${this.historySize}`);
    if (!(this.maxLiveTasks >= 0)) throw new RangeError(`maxLiveTasks must be >= 0, got ${this.maxLiveTasks}`);
  }

  /**
   * Merge a node's batch of task events; `dropped`: events that node lost. The table takes the
   * event objects as its rows (the caller gives them up: a decoded message, or a node's drained copies).
   */
  apply(events: TaskEvent[], dropped = 0): void {
    this.#dropped += dropped;
    const changes = this.#changes();
    for (const event of events) this.#put(this.#merge(event), changes);
    this.#emit(changes);
  }

  /** The driver of `jobId` left: its unfinished tasks end as cancelled (its nodes cancel them). */
  jobFinished(jobId: string, now = Date.now()): void {
    this.#finishedJobs.delete(jobId);
    this.#finishedJobs.add(jobId);
    for (const oldest of this.#finishedJobs) {
      if (this.#finishedJobs.size <= MAX_FINISHED_JOBS) break;
      this.#finishedJobs.delete(oldest);
    }
    this.#endLive((row) => row.jobId === jobId, ERROR_CODES.TASK_CANCELLED, now);
  }

  /** A node died: the unfinished tasks it ran end as NODE_DIED (unless reported again from elsewhere). */
  nodeDied(nodeId: string, now = Date.now()): void {
    this.#endLive((row) => row.nodeId === nodeId, ERROR_CODES.NODE_DIED, now);
  }

  /** A task's row; undefined when unknown or forgotten. */
  get(taskId: string): TaskRow | undefined {
    return this.#rows.get(taskId);
  }

  /** Every row, or one job's: live ones and the history, in the order they were first reported. */
  list(jobId?: string): TaskRow[] {
    const rows = [...this.#rows.values()];
    return jobId === undefined ? rows : rows.filter((row) => row.jobId === jobId);
  }

  /** The rows (all, or `jobId`'s), their dependency edges and the jobs' counts. */
  snapshot(jobId?: string): TaskTableSnapshot {
    const tasks = this.list(jobId);
    const edges: TaskEdge[] = [];
    const jobs = new Map<string, JobTasks>();
    for (const row of tasks) {
      let job = jobs.get(row.jobId);
      if (!job) jobs.set(row.jobId, job = { jobId: row.jobId, finished: this.#finishedJobs.has(row.jobId), counts: noCounts() });
      job.counts[row.state] += 1;
      for (const objectId of row.deps ?? []) {
        const from = this.#producerOf(objectId);
        if (from !== undefined) edges.push({ from, to: row.taskId, objectId });
      }
    }
    return { tasks, edges, jobs: [...jobs.values()], dropped: this.#dropped };
  }

  /** Listen to every change (one call per batch applied); returns the unsubscribe function. */
  subscribe(listener: TaskTableListener): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** Rows in the table by state. */
  counts(): Record<TaskState, number> {
    return { ...this.#counts };
  }

  /** Tasks that finished or failed since the head started (evicted ones included), by outcome. */
  totals(): { finished: number; failed: number } {
    return { ...this.#totals };
  }

  /** Task events lost since the head started. */
  dropped(): number {
    return this.#dropped;
  }

  /** The row a report makes: the report, keeping the first submission time and the dependencies. */
  #merge(event: TaskEvent): TaskRow {
    const row = event as TaskRow;
    const old = this.#rows.get(event.taskId);
    row.jobId ??= old?.jobId ?? UNKNOWN_JOB;
    if (old === undefined) return row;
    if (old.submittedAt < row.submittedAt) row.submittedAt = old.submittedAt;
    if (row.deps === undefined && old.deps !== undefined) row.deps = old.deps;
    return row;
  }

  #put(row: TaskRow, changes: TaskTableChanges | undefined): void {
    const old = this.#rows.get(row.taskId);
    const done = isDone(row.state);
    if (old === undefined && !done && this.#rows.size - this.#counts.finished - this.#counts.failed >= this.maxLiveTasks) {
      this.#dropped += 1;
      return;
    }
    if (row.deps !== undefined) {
      const depTasks = this.#depTasksOf(row.deps);
      if (depTasks.length > 0) row.depTasks = depTasks;
      if (depTasks.length < row.deps.length) this.#awaitProducers(row);
    }
    const wasDone = old !== undefined && isDone(old.state);
    if (old !== undefined) this.#counts[old.state] -= 1;
    this.#rows.set(row.taskId, row);
    this.#counts[row.state] += 1;
    changes?.tasks.push(row);
    if (old === undefined && this.#awaiting.size > 0) this.#linkDependents(row.taskId, changes);
    if (!done) {
      if (wasDone) this.#reopened.add(row.taskId);
      return;
    }
    const outcome = row.state as 'finished' | 'failed';
    if (wasDone) {
      // Ended by the head (its job or node went) before its node's own report of how it ended.
      if (old.state !== outcome) {
        this.#totals[old.state as 'finished' | 'failed'] -= 1;
        this.#totals[outcome] += 1;
      }
      return;
    }
    this.#order.push(row.taskId);
    if (this.#reopened.size === 0 || !this.#reopened.has(row.taskId)) {
      this.#totals[outcome] += 1;
      changes?.finished.push(row);
    }
    this.#evict(changes);
  }

  /** Forget the oldest finished rows beyond the history's size. */
  #evict(changes: TaskTableChanges | undefined): void {
    while (this.#counts.finished + this.#counts.failed > this.historySize) {
      const taskId = this.#nextOldest();
      if (taskId === undefined) return;
      const row = this.#rows.get(taskId);
      if (row === undefined || !isDone(row.state)) continue;
      this.#rows.delete(taskId);
      if (row.deps !== undefined && this.#awaiting.size > 0) this.#stopAwaiting(row);
      this.#counts[row.state] -= 1;
      if (this.#reopened.size > 0) this.#reopened.delete(taskId);
      changes?.removed.push(taskId);
    }
  }

  /** The next id of #order (undefined when none is left), compacting it once its consumed part dominates. */
  #nextOldest(): string | undefined {
    if (this.#oldest >= this.#order.length) return undefined;
    const taskId = this.#order[this.#oldest++];
    if (this.#oldest > 1024 && this.#oldest * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#oldest);
      this.#oldest = 0;
    }
    return taskId;
  }

  #endLive(match: (row: TaskRow) => boolean, code: string, now: number): void {
    const changes = this.#changes();
    for (const row of [...this.#rows.values()]) {
      if (isDone(row.state) || !match(row)) continue;
      this.#put({ ...row, state: 'failed', finishedAt: now, error: code }, changes);
    }
    this.#emit(changes);
  }

  #depTasksOf(deps: string[]): string[] {
    return deps.map((objectId) => this.#producerOf(objectId)).filter((id): id is string => id !== undefined);
  }

  /** The ids a producer of `objectId` may have: the id itself (a task's result), and for a generator's value its task's. */
  #producerIds(objectId: string): string[] {
    const dash = objectId.lastIndexOf('-');
    return dash > 0 ? [objectId, objectId.slice(0, dash)] : [objectId];
  }

  #awaitProducers(row: TaskRow): void {
    for (const objectId of row.deps ?? []) {
      if (this.#producerOf(objectId) !== undefined) continue;
      for (const producer of this.#producerIds(objectId)) {
        let dependents = this.#awaiting.get(producer);
        if (!dependents) this.#awaiting.set(producer, (dependents = new Set()));
        dependents.add(row.taskId);
      }
    }
  }

  #stopAwaiting(row: TaskRow): void {
    for (const objectId of row.deps ?? []) {
      for (const producer of this.#producerIds(objectId)) {
        const dependents = this.#awaiting.get(producer);
        dependents?.delete(row.taskId);
        if (dependents?.size === 0) this.#awaiting.delete(producer);
      }
    }
  }

  /** A task came: the rows that took its objects get their edge to it (as new rows: a row is never changed in place). */
  #linkDependents(taskId: string, changes: TaskTableChanges | undefined): void {
    const dependents = this.#awaiting.get(taskId);
    if (!dependents) return;
    this.#awaiting.delete(taskId);
    for (const dependentId of dependents) {
      const dependent = this.#rows.get(dependentId);
      if (dependent?.deps === undefined) continue;
      const linked: TaskRow = { ...dependent, depTasks: this.#depTasksOf(dependent.deps) };
      this.#rows.set(dependentId, linked);
      changes?.tasks.push(linked);
    }
  }

  /**
   * The task that makes `objectId`: the object of a task has its id, a generator's values
   * `<taskId>-<index>` (an id's random part may hold a `-` too, but then no task has the id before it).
   */
  #producerOf(objectId: string): string | undefined {
    if (this.#rows.has(objectId)) return objectId;
    const dash = objectId.lastIndexOf('-');
    if (dash <= 0) return undefined;
    const taskId = objectId.slice(0, dash);
    return this.#rows.get(taskId)?.taskId;
  }

  /** A change to gather, or none while nobody listens. */
  #changes(): TaskTableChanges | undefined {
    return this.#listeners.size > 0 ? { tasks: [], finished: [], removed: [] } : undefined;
  }

  #emit(changes: TaskTableChanges | undefined): void {
    if (changes === undefined || (changes.tasks.length === 0 && changes.removed.length === 0)) return;
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.#log.error({ err: error }, 'a task table listener threw');
      }
    }
  }
}
