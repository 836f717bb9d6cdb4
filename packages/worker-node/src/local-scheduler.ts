/**
 * The local scheduler: holds each task until its ObjectRef arguments exist, then runs it on a
 * free worker as soon as the node has the resources. Tasks the node can never run go to the
 * head (which, with no node able to run them either, fails them at once rather than hang).
 *
 * A task's lifecycle here:
 *
 *   waiting ──deps ready──▶ queued ──worker + resources──▶ running ──done──▶ finished
 *      │                      ▲   │                          ▲  │  ▲
 *      │                      │   └─▶ assigned ──────────────┘  │  └─ resumed (takes CPUs back)
 *      │                      │     (sent ahead to a busy       ▼
 *      │                      │      worker: tiny tasks)     blocked in get (lends its CPUs,
 *      │                      └── worker died, retry ──────   to the worker's next task)
 *      └── a dependency failed / cancel ──▶ finished
 *
 * Sending ahead: a task whose function has proved tiny (mean run time under 1 ms, see run-times.ts)
 * may be sent to a busy worker whose current task needs the same resources, is itself tiny and
 * started less than PIPELINE_BEHIND_MS ago, up to PIPELINE_DEPTH deep (refilled in batches once half of it ran). It starts, in the worker and here alike, when that worker has no active
 * task, taking over the resources of the one that finished or began to wait. The worker never
 * idles for a round trip to the node, which is what limits tiny-task throughput; long tasks are
 * never sent ahead, so they cannot pile up behind each other while another worker is free.
 *
 * Overlapping calls (maxConcurrency > 1, task-groups.ts): a queued call joins its function's calls
 * in a worker with room, starting at once and taking nothing; nothing is sent ahead behind them.
 *
 * The scheduler owns the task records and decides; what each worker runs and the resources it
 * holds are kept in worker-assignments.ts, what is remembered of tasks elsewhere in spilled-tasks.ts.
 */
import { ERROR_CODES, logger, type ObjectLocation, type ResourceSet, type Result, type TaskSpec } from '@weft/protocol';
import type { ObjectEntry, ObjectStore } from './object-store.ts';
import { describeResources, fits } from './resources.ts';
import { RunTimes } from './run-times.ts';
import { SPILL_SHORT_MS, shouldSpill } from './spill-policy.ts';
import { SpilledTasks, afterNodeLoss } from './spilled-tasks.ts';
import { newTaskRecord, noTasks, type ClusterLink, type TaskRecord } from './task-record.ts';
import { TaskLog } from './task-log.ts';
import { afterExit, crashError, describeExit } from './worker-exit.ts';
import { TaskQueue } from './task-queue.ts';
import { overlaps } from './task-groups.ts';
import { WorkerAssignments } from './worker-assignments.ts';
import type { WorkerHandle, WorkerPool } from './worker-pool.ts';

/**
 * Tasks sent ahead to one worker at most. A refill sends half of it as one message (a run of
 * tasks, port-runs.ts); posting a message costs the node's thread tens of microseconds whatever it
 * holds, so deeper is cheaper per task: 64 took the node's thread from 29-33 to 24-27 µs a tiny
 * task, and each worker's from 7-9 to 5-6, against 16. At most 64 tiny tasks (each well under a
 * millisecond) wait behind one worker's current task.
 */
const PIPELINE_DEPTH = 64;

export class LocalScheduler {
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #queue = new TaskQueue<TaskRecord>();
  /** Tasks in #tasks by state (see task-record.ts). */
  readonly #counts = noTasks();
  /** Counts dispatch passes (see WorkerPool.pipelineWorker). */
  #dispatchPass = 0;
  readonly #total: ResourceSet;
  readonly #runTimes = new RunTimes();
  readonly #taskLog: TaskLog;
  /** What runs in each worker, and the resources it holds. */
  readonly #workers: WorkerAssignments;
  /** What is remembered of tasks that run elsewhere. */
  readonly #spilled: SpilledTasks;
  readonly #log = logger('local-scheduler');

  constructor(
    private readonly nodeId: string,
    total: ResourceSet,
    private readonly store: ObjectStore,
    private readonly pool: WorkerPool,
    private readonly cluster: ClusterLink,
    /** Whether tasks are logged for the head's task table and the state API (TaskLog). */
    recordTasks = true,
  ) {
    this.#total = { ...total };
    this.#taskLog = new TaskLog(nodeId, recordTasks);
    this.#workers = new WorkerAssignments(total, store, this.#taskLog, this.#runTimes, (taskId) => this.#tasks.get(taskId));
    this.#spilled = new SpilledTasks(nodeId, cluster);
  }

  /** Resources not held by running tasks and actors. */
  available(): ResourceSet {
    return this.#workers.available();
  }

  /** Called first in every dispatch, when resources may have been freed (actor placement). */
  beforeDispatch: () => void = () => {};

  /** Whether this node could ever provide `resources`. */
  feasible(resources: ResourceSet): boolean {
    return fits(resources, this.#total);
  }

  /** Take `held` if `needed` is free now (an actor being placed); false otherwise. */
  reserve(needed: ResourceSet, held: ResourceSet): boolean {
    return this.#workers.reserve(needed, held);
  }

  /** Give back what `reserve` took. */
  release(held: ResourceSet): void {
    this.#workers.release(held);
    this.dispatch();
  }

  /**
   * Accept a task submitted by `owner` (a client id here, or "peer:<node>" for a task another
   * node owns and the head placed here), which holds its return ref.
   */
  submit(spec: TaskSpec, owner: string, ownerNode?: string): void {
    const live = this.#tasks.get(spec.taskId);
    if (live !== undefined && live.state !== 'spilled') {
      // The id is also its result's: failing the copy would fail the live task's result, and
      // replacing the record would lose its worker and CPUs. A repeated submit (a retry) changes nothing.
      this.#log.warn({ taskId: spec.taskId, name: spec.name, state: live.state, from: owner }, 'ignored a second submit of a live task id');
      return;
    }
    // A task this node spilled that the head placed back here runs here now, under a new record.
    if (live !== undefined) {
      this.store.unpin(live.pinned);
      this.#counts[live.state] -= 1;
    }
    this.store.addHolder(spec.taskId, owner);
    if (ownerNode !== undefined) this.store.returnResultTo(spec.taskId, ownerNode);
    const task = newTaskRecord(spec, ownerNode, this.#counts);
    this.#tasks.set(spec.taskId, task);
    this.#taskLog.submitted(task);
    this.store.pin(task.pinned);
    if (this.#spilled.takeCancelledAhead(spec.taskId)) {
      this.#finish(task, { status: 'error', error: { code: ERROR_CODES.TASK_CANCELLED, message: `task ${spec.name} (${spec.taskId}) was cancelled` } });
      return;
    }
    this.#admit(task);
  }

  /**
   * Another node cancelled a task it spilled here whose spec has not come yet (the head forwards
   * it): it is cancelled when it comes. Bounded: the oldest are forgotten.
   */
  cancelAhead(taskId: string): void {
    if (!this.#tasks.has(taskId)) this.#spilled.cancelAhead(taskId);
  }

  /** Wait for the task's arguments (or send it where it can run). */
  #admit(task: TaskRecord): void {
    const spec = task.spec;
    if (!fits(spec.resources, this.#total)) {
      if (task.placed) {
        this.#finish(task, { status: 'error', error: { code: ERROR_CODES.TASK_UNSCHEDULABLE,
          message: `task ${spec.name} needs ${describeResources(spec.resources)}, more than node ${this.nodeId} has (${describeResources(this.#total)})` } });
      } else {
        this.#spill(task);
      }
      return;
    }
    for (const [, id] of spec.argRefs) {
      const dep = this.store.ensure(id);
      if (dep.result) continue;
      task.missingDeps += 1;
      this.store.onResult(dep, (done) => this.#depReady(task, done));
    }
    if (task.missingDeps === 0) this.#depsDone(task);
  }

  /** Where the task's ref arguments are, for the head's placement and the executing node. */
  argLocations(spec: TaskSpec): ObjectLocation[] {
    return this.store.locationsOf(spec.argRefs.map(([, id]) => id));
  }

  #spill(task: TaskRecord): void {
    this.#taskLog.forget(task);
    this.#spilled.send(task);
  }

  /** The head says where a task this node spilled went (one cancelled while it was placed is stopped there). */
  placedOn(taskId: string, nodeId: string): void {
    this.#spilled.placedOn(this.#tasks.get(taskId), taskId, nodeId);
  }

  /**
   * A node died (or `why`: the connection to it was lost): the tasks this node had spilled to it run again (here, or spilled anew), each
   * charged one retry, as after a worker crash.
   */
  nodeDied(nodeId: string, why = 'died'): void {
    for (const task of [...this.#tasks.values()]) {
      if (task.state !== 'spilled' || task.placedOn !== nodeId) continue;
      task.placedOn = undefined;
      // Its log left with it (see #spill): this node reports it again from now on.
      this.#taskLog.submitted(task);
      const error = afterNodeLoss(task, nodeId, why);
      if (error) {
        this.#finish(task, { status: 'error', error });
        continue;
      }
      task.retries += 1;
      this.#log.warn({ taskId: task.spec.taskId, name: task.spec.name, nodeId, why }, 'lost the node running a spilled task; retrying the task');
      if (fits(task.spec.resources, this.#total)) this.#requeue(task);
      else this.#spill(task);
    }
    this.dispatch();
  }

  /** The driver of `jobId` left: cancel every task of the job here. */
  cancelJob(jobId: string): void {
    for (const task of [...this.#tasks.values()]) {
      if (task.spec.jobId === jobId && task.state !== 'finished') this.cancel(task.spec.taskId);
    }
  }

  /** The result of a task this node spilled, from the node that ran it (or the head's refusal). */
  spilledDone(taskId: string, outcome: Result | ObjectLocation): void {
    this.#spilled.settled(taskId);
    const task = this.#tasks.get(taskId);
    if (!task || task.state !== 'spilled') return;
    if ('status' in outcome) {
      this.#finish(task, outcome);
      return;
    }
    task.state = 'finished';
    this.#forget(task);
    this.#spilled.remember(task.spec);
    this.store.located(this.store.ensure(taskId), outcome);
    this.store.unpin(task.pinned);
  }

  /** Forget the lineage of a freed object. */
  forget(objectId: string): void {
    this.#spilled.forget(objectId);
  }

  /** Re-run the task that made `objectId`, whose only copy was lost; false when there is none. */
  rebuild(objectId: string): boolean {
    const spec = this.#spilled.lineageOf(objectId);
    const entry = this.store.get(objectId);
    if (!spec || !entry) return false;
    this.#spilled.forget(objectId);
    this.store.rebuilding(entry);
    this.#log.warn({ objectId, name: spec.name }, 'object lost with its node; re-running the task that made it');
    const task = newTaskRecord(spec, undefined, this.#counts);
    this.#tasks.set(spec.taskId, task);
    this.store.pin(task.pinned);
    this.#admit(task);
    return true;
  }

  #depReady(task: TaskRecord, dep: ObjectEntry): void {
    if (task.state !== 'waiting') return;
    if (dep.result?.status === 'error') {
      // An error upstream fails everything downstream with that same error.
      this.#finish(task, dep.result);
      return;
    }
    task.missingDeps -= 1;
    if (task.missingDeps === 0) this.#depsDone(task);
  }

  #depsDone(task: TaskRecord): void {
    for (const [, id] of task.spec.argRefs) {
      const result = this.store.get(id)?.result;
      if (result?.status === 'error') {
        this.#finish(task, result);
        return;
      }
    }
    task.state = 'queued';
    this.#taskLog.queued(task);
    this.#queue.push(task);
    this.dispatch();
  }

  /** Start queued tasks while resources and workers allow; send tiny ones ahead to busy workers. */
  dispatch(): void {
    this.beforeDispatch();
    const pass = ++this.#dispatchPass;
    for (;;) {
      const task = this.#queue.peek();
      if (!task) return;
      if (task.state !== 'queued') {
        this.#queue.shift();
        continue;
      }
      const group = this.#workers.roomFor(task.spec);
      if (group) {
        this.#queue.shift();
        this.#workers.assign(task, group.worker, group);
        continue;
      }
      // First in, first out: a big task at the head waits for room rather than starve.
      const worker = this.#workers.isFree(task.spec.resources) ? this.pool.idleWorker() : undefined;
      if (worker) {
        this.#queue.shift();
        this.#workers.assign(task, worker);
        this.#workers.promote(worker);
        continue;
      }
      const ahead = !overlaps(task.spec) && this.#runTimes.isTiny(task.spec) ? this.pool.pipelineWorker(task.spec.resources, PIPELINE_DEPTH, pass) : undefined;
      if (ahead) {
        this.#queue.shift();
        this.#workers.assign(task, ahead);
        continue;
      }
      const spill = shouldSpill({ placed: task.placed, queued: this.#queue.length, localCpus: Math.max(1, this.#total.CPU ?? 1),
        view: this.cluster.remoteView(), spilledSinceView: this.#spilled.sinceView(), short: this.#runTimes.isUnder(task.spec, SPILL_SHORT_MS) });
      if (spill) {
        this.#queue.shift();
        this.#spill(task);
        continue;
      }
      if (this.#workers.isFree(task.spec.resources) && this.pool.canGrow()) this.pool.spawn();
      return;
    }
  }

  /** Other nodes reported their free resources again. */
  viewUpdated(): void {
    this.#spilled.viewUpdated();
    this.dispatch();
  }

  /** A worker reports a task's outcome. */
  taskDone(worker: WorkerHandle, taskId: string, result: Result, runMs?: number): void {
    // A call cancelled beside others returned (its result is dropped): the worker may take tasks again.
    if (worker.cancelled.delete(taskId)) return this.dispatch();
    const task = this.#tasks.get(taskId);
    // Not ours any more (cancelled, or the worker died and it was re-queued elsewhere). A task
    // still 'assigned' here did start in the worker: its unblock crossed this node's view.
    if (!task || task.worker !== worker || (task.state !== 'running' && task.state !== 'assigned')) return;
    if (runMs !== undefined) this.#runTimes.record(task.spec, runMs);
    this.#workers.leave(task);
    this.#workers.promote(worker);
    // A worker whose cancelled calls still run (see cancel) is ended once nothing else runs in it.
    if (worker.cancelled.size > 0 && worker.tasks.size === 0) this.pool.kill(worker, `cancelled task ${[...worker.cancelled].join(', ')} still ran`);
    const retry = result.status === 'error' && result.error.code === ERROR_CODES.TASK_ERROR && task.spec.retryExceptions
      && (task.spec.maxRetries < 0 || task.retries < task.spec.maxRetries) && !task.yielded;
    if (retry) {
      task.retries += 1;
      this.#requeue(task);
    } else {
      this.#finish(task, result);
    }
    this.dispatch();
  }

  /**
   * The generator task `taskId` yielded a value: in `worker`, or (no worker) on the node this node
   * spilled it to. From then on it is not run again (its consumer has seen part of this run, and
   * another might yield other values): a crash or a lost node fails it. False when it does not run
   * there any more (cancelled, or re-queued after its worker died): the value is dropped.
   */
  yielded(taskId: string, worker?: WorkerHandle): boolean {
    const task = this.#tasks.get(taskId);
    const live = worker === undefined ? task?.state === 'spilled' : task?.worker === worker && (task.state === 'running' || task.state === 'assigned');
    if (live && task) task.yielded = true;
    return live;
  }

  /** The running task `taskId` waits in get/wait: lend its CPUs. */
  blocked(taskId: string | undefined): void {
    const task = taskId === undefined ? undefined : this.#tasks.get(taskId);
    const worker = task?.worker;
    if (!task || !worker || !this.#workers.blocked(task, worker)) return;
    this.#workers.promote(worker);
    this.dispatch();
  }

  /** The task's get/wait returned: it takes its CPUs back (even if that oversubscribes). */
  unblocked(taskId: string | undefined): void {
    const task = taskId === undefined ? undefined : this.#tasks.get(taskId);
    if (task) this.#workers.unblocked(task);
  }

  /** Cancel the task that makes `objectId`; false when it finished already (or is unknown). */
  cancel(objectId: string): boolean {
    const task = this.#tasks.get(objectId);
    if (!task || task.state === 'finished') return false;
    if (task.state === 'spilled') this.#spilled.cancel(task);
    if (task.state === 'assigned' && task.worker) {
      // Sent ahead but not started: the worker drops it; nothing to interrupt.
      task.worker.conn.send({ type: 'drop-task', taskId: objectId });
      this.#workers.leave(task);
    }
    const worker = task.state === 'running' ? task.worker : undefined;
    const beside = task.group !== undefined && task.group.members > 1;
    if (worker) {
      this.#workers.leave(task);
      this.#workers.promote(worker);
    }
    this.#finish(task, { status: 'error', error: { code: ERROR_CODES.TASK_CANCELLED, message: `task ${task.spec.name} (${objectId}) was cancelled` } });
    // JavaScript cannot interrupt a running function: end its worker; its other tasks are re-queued
    // when it exits, not charged. But beside other calls of its function, ending it would end them:
    // the cancelled call's code keeps running (its awaits resume, its I/O completes, what it returns
    // is dropped), the worker takes nothing new, and it is ended once they finish if it still runs.
    if (worker && beside) worker.cancelled.add(objectId);
    else if (worker) this.pool.kill(worker, `task ${objectId} was cancelled`);
    this.dispatch();
    return true;
  }

  /** A worker's thread ended: retry or fail its tasks, then carry on. */
  workerExited(worker: WorkerHandle, exitCode: number): void {
    const cause = worker.killedFor ?? describeExit(worker, exitCode);
    for (const taskId of worker.tasks) {
      const task = this.#tasks.get(taskId);
      if (!task || (task.state !== 'running' && task.state !== 'assigned')) continue;
      const outcome = afterExit(task, task.state === 'running', worker.killedFor !== undefined);
      this.#workers.leave(task);
      if (outcome === 'fail') {
        this.#finish(task, { status: 'error', error: crashError(task, cause) });
        continue;
      }
      if (outcome === 'retry') {
        task.retries += 1;
        this.#log.warn({ taskId, name: task.spec.name, retry: task.retries, cause }, 'worker died; retrying task');
      }
      this.#requeue(task);
    }
    worker.tasks.clear();
    worker.backlog.length = 0;
    worker.cancelled.clear();
    this.dispatch();
  }

  #requeue(task: TaskRecord): void {
    task.state = 'queued';
    this.#queue.push(task);
  }

  #finish(task: TaskRecord, result: Result): void {
    task.state = 'finished';
    this.#taskLog.finished(task, result.status === 'error' ? result.error : undefined);
    this.#forget(task);
    this.store.complete(task.spec.taskId, result);
    this.store.unpin(task.pinned);
  }

  /** The recent tasks of this node, for the state API. */
  recent(): import('@weft/protocol').TaskEvent[] {
    const live = [...this.#tasks.values()].flatMap((task) => (task.event ? [{ ...task.event }] : []));
    return [...live, ...this.#taskLog.recent()];
  }

  /** The tasks that changed since the last call, for the head's task table (see TaskLog.drain). */
  drainTaskEvents(): { events: import('@weft/protocol').TaskEvent[]; dropped: number } {
    return this.#taskLog.drain();
  }

  /** Counts by state of the tasks here (kept as they change), for heartbeats, status and tests. */
  counts(): Record<TaskRecord['state'], number> {
    return { ...this.#counts };
  }

  /** A finished task leaves the records (and the counts). */
  #forget(task: TaskRecord): void {
    if (this.#tasks.get(task.spec.taskId) !== task) return;
    this.#tasks.delete(task.spec.taskId);
    this.#counts[task.state] -= 1;
  }
}

