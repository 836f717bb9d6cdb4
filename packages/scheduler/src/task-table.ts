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
 * are the events nodes dropped). A job whose driver left has its unfinished tasks ended as
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

/** The job of rows whose node did not name one. */
export const UNKNOWN_JOB = 'unknown';

const isDone = (state: TaskState): boolean => state === 'finished' || state === 'failed';
const noCounts = (): Record<TaskState, number> => ({ waiting: 0, queued: 0, running: 0, finished: 0, failed: 0 });

export class TaskTable {
  readonly historySize: number;
  readonly maxLiveTasks: number;
  readonly #rows = new Map<string, TaskRow>();
  /** Ids of finished rows, oldest first: what the history evicts. */
  readonly #history = new Set<string>();
  /** Ids of each job's rows; a job's entry goes with its last row. */
  readonly #jobs = new Map<string, Set<string>>();
  readonly #finishedJobs = new Set<string>();
  /** Tasks that finished once: their duration and count are taken once, whatever reports follow. */
  readonly #counted = new Set<string>();
  readonly #counts = noCounts();
  readonly #totals = { finished: 0, failed: 0 };
  readonly #listeners = new Set<TaskTableListener>();
  #dropped = 0;
  readonly #log = logger('task-table');

  constructor(options: TaskTableOptions = {}) {
    this.historySize = options.historySize ?? 10_000;
    this.maxLiveTasks = options.maxLiveTasks ?? 100_000;
    if (!(this.historySize >= 0)) throw new RangeError(`historySize must be >= 0, got ${this.historySize}`);
    if (!(this.maxLiveTasks >= 0)) throw new RangeError(`maxLiveTasks must be >= 0, got ${this.maxLiveTasks}`);
  }

  /** Merge a node's batch of task events; `dropped`: events that node lost. */
  apply(events: TaskEvent[], dropped = 0): void {
    this.#dropped += dropped;
    const changes: TaskTableChanges = { tasks: [], finished: [], removed: [] };
    for (const event of events) this.#put(this.#merge(event), changes);
    this.#emit(changes);
  }

  /** The driver of `jobId` left: its unfinished tasks end as cancelled (its nodes cancel them). */
  jobFinished(jobId: string, now = Date.now()): void {
    this.#finishedJobs.add(jobId);
    this.#endLive((row) => row.jobId === jobId, ERROR_CODES.TASK_CANCELLED, now);
    this.#forgetJobIfEmpty(jobId);
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
    if (jobId === undefined) return [...this.#rows.values()];
    const ids = this.#jobs.get(jobId);
    return ids ? [...ids].map((id) => this.#rows.get(id) as TaskRow) : [];
  }

  /** The rows (all, or `jobId`'s), their dependency edges and the jobs' counts. */
  snapshot(jobId?: string): TaskTableSnapshot {
    const tasks = this.list(jobId);
    const edges: TaskEdge[] = [];
    for (const row of tasks) {
      for (const objectId of row.deps ?? []) {
        const from = this.#producerOf(objectId);
        if (from !== undefined) edges.push({ from, to: row.taskId, objectId });
      }
    }
    const jobIds = jobId === undefined ? [...this.#jobs.keys()] : this.#jobs.has(jobId) ? [jobId] : [];
    return { tasks, edges, jobs: jobIds.map((id) => this.#jobTasks(id)), dropped: this.#dropped };
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
    const old = this.#rows.get(event.taskId);
    const row: TaskRow = { ...event, jobId: event.jobId ?? old?.jobId ?? UNKNOWN_JOB };
    if (old === undefined) return row;
    if (old.submittedAt < row.submittedAt) row.submittedAt = old.submittedAt;
    if (row.deps === undefined && old.deps !== undefined) row.deps = old.deps;
    return row;
  }

  #put(row: TaskRow, changes: TaskTableChanges): void {
    const old = this.#rows.get(row.taskId);
    if (old === undefined && !isDone(row.state) && this.#rows.size - this.#history.size >= this.maxLiveTasks) {
      this.#dropped += 1;
      return;
    }
    if (row.deps !== undefined) {
      const depTasks = row.deps.map((objectId) => this.#producerOf(objectId)).filter((id): id is string => id !== undefined);
      if (depTasks.length > 0) row.depTasks = depTasks;
    }
    if (old !== undefined) {
      this.#counts[old.state] -= 1;
      if (old.jobId !== row.jobId) this.#jobs.get(old.jobId)?.delete(row.taskId);
    }
    this.#rows.set(row.taskId, row);
    this.#counts[row.state] += 1;
    let ids = this.#jobs.get(row.jobId);
    if (!ids) this.#jobs.set(row.jobId, ids = new Set());
    ids.add(row.taskId);
    changes.tasks.push(row);
    this.#history.delete(row.taskId);
    if (!isDone(row.state)) return;
    this.#history.add(row.taskId);
    const outcome = row.state as 'finished' | 'failed';
    if (!this.#counted.has(row.taskId)) {
      this.#counted.add(row.taskId);
      this.#totals[outcome] += 1;
      changes.finished.push(row);
    } else if (old !== undefined && isDone(old.state) && old.state !== outcome) {
      // Ended by the head (its job or node went) before its node's own report of how it ended.
      this.#totals[old.state as 'finished' | 'failed'] -= 1;
      this.#totals[outcome] += 1;
    }
    this.#evict(changes);
  }

  /** Forget the oldest finished rows beyond the history's size. */
  #evict(changes: TaskTableChanges): void {
    for (const taskId of this.#history) {
      if (this.#history.size <= this.historySize) return;
      this.#history.delete(taskId);
      this.#counted.delete(taskId);
      const row = this.#rows.get(taskId) as TaskRow;
      this.#rows.delete(taskId);
      this.#counts[row.state] -= 1;
      this.#jobs.get(row.jobId)?.delete(taskId);
      this.#forgetJobIfEmpty(row.jobId);
      changes.removed.push(taskId);
    }
  }

  #endLive(match: (row: TaskRow) => boolean, code: string, now: number): void {
    const changes: TaskTableChanges = { tasks: [], finished: [], removed: [] };
    for (const row of [...this.#rows.values()]) {
      if (isDone(row.state) || !match(row)) continue;
      this.#put({ ...row, state: 'failed', finishedAt: now, error: code }, changes);
    }
    this.#emit(changes);
  }

  #forgetJobIfEmpty(jobId: string): void {
    const ids = this.#jobs.get(jobId);
    if (ids !== undefined && ids.size > 0) return;
    this.#jobs.delete(jobId);
    this.#finishedJobs.delete(jobId);
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

  #jobTasks(jobId: string): JobTasks {
    const counts = noCounts();
    for (const id of this.#jobs.get(jobId) ?? []) counts[(this.#rows.get(id) as TaskRow).state] += 1;
    return { jobId, finished: this.#finishedJobs.has(jobId), counts };
  }

  #emit(changes: TaskTableChanges): void {
    if (changes.tasks.length === 0 && changes.removed.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.#log.error({ err: error }, 'a task table listener threw');
      }
    }
  }
}
