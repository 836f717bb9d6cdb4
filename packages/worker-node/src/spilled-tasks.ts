/**
 * What the local scheduler remembers about tasks that run on other nodes: how many it spilled since
 * the other nodes last reported their room (see shouldSpill), cancels that came while the head was
 * placing a spilled task (it is stopped where it lands), the specs of spilled tasks whose results
 * sit on other nodes (lineage: run again if that node dies), and, the other way, tasks another node
 * cancelled before the head forwarded their spec here. The task records stay the scheduler's; this
 * keeps only what outlives them or comes before them.
 */
import { ERROR_CODES, type ErrorPayload, type TaskSpec } from '@weft/protocol';
import type { ClusterLink, TaskRecord } from './task-record.ts';

/** Cancels of tasks whose spec has not come yet, remembered at most (the oldest are forgotten). */
const CANCELLED_AHEAD_MAX = 10_000;

export class SpilledTasks {
  /** Tasks this node spilled that were cancelled while the head placed them: stopped where they go. */
  readonly #cancelledUnplaced = new Set<string>();
  /** Tasks another node cancelled before their spec came here (the head forwards it): cancelled as they arrive. */
  readonly #cancelledAhead = new Set<string>();
  /** Specs of spilled tasks whose results sit on other nodes: re-run if that node dies (lineage). */
  readonly #lineage = new Map<string, TaskSpec>();
  /** Tasks spilled since the cluster's free resources were last reported. */
  #sinceView = 0;

  constructor(private readonly nodeId: string, private readonly cluster: ClusterLink) {}

  /** Send the task to the head, which places it on another node. */
  send(task: TaskRecord): void {
    task.state = 'spilled';
    task.placedOn = undefined;
    this.#sinceView += 1;
    this.cluster.spill(task.spec, this.nodeId);
  }

  /** Tasks spilled since the other nodes last reported their free resources. */
  sinceView(): number {
    return this.#sinceView;
  }

  /** Other nodes reported their free resources again. */
  viewUpdated(): void {
    this.#sinceView = 0;
  }

  /** The head placed `taskId` on `nodeId`; `task`: its record here, if it has one. */
  placedOn(task: TaskRecord | undefined, taskId: string, nodeId: string): void {
    if (task?.state === 'spilled') task.placedOn = nodeId;
    // Cancelled while the head was placing it: stop it where it went.
    else if (this.#cancelledUnplaced.delete(taskId)) this.cluster.cancelRemote(nodeId, taskId);
  }

  /** The spilled task was cancelled: stopped where it runs, or where the head places it. */
  cancel(task: TaskRecord): void {
    if (task.placedOn !== undefined) this.cluster.cancelRemote(task.placedOn, task.spec.taskId);
    else this.#cancelledUnplaced.add(task.spec.taskId);
  }

  /** Its result came back (or the head's refusal): no cancel is owed to where it went. */
  settled(taskId: string): void {
    this.#cancelledUnplaced.delete(taskId);
  }

  /** The result of the task `spec` sits on another node: kept, to run it again if that node dies. */
  remember(spec: TaskSpec): void {
    this.#lineage.set(spec.taskId, spec);
  }

  /** The spec of the task that made `objectId`, whose result sits on another node. */
  lineageOf(objectId: string): TaskSpec | undefined {
    return this.#lineage.get(objectId);
  }

  /** Forget the lineage of `objectId` (it was freed, or is being rebuilt). */
  forget(objectId: string): void {
    this.#lineage.delete(objectId);
  }

  /**
   * Another node cancelled a task it spilled here whose spec has not come yet (the head forwards
   * it): it is cancelled when it comes. Bounded: the oldest are forgotten.
   */
  cancelAhead(taskId: string): void {
    this.#cancelledAhead.add(taskId);
    if (this.#cancelledAhead.size > CANCELLED_AHEAD_MAX) this.#cancelledAhead.delete(this.#cancelledAhead.values().next().value as string);
  }

  /** Whether the task arriving now was cancelled ahead (once: it is forgotten). */
  takeCancelledAhead(taskId: string): boolean {
    return this.#cancelledAhead.delete(taskId);
  }
}

/**
 * What becomes of a task this node spilled to `nodeId`, which died (`why`: or the connection to it
 * was lost): the error it fails with when it is out of retries or, a generator, has yielded values;
 * undefined: it runs again, charged one retry, as after a worker crash.
 */
export function afterNodeLoss(task: { spec: TaskSpec; retries: number; yielded?: boolean }, nodeId: string, why: string): ErrorPayload | undefined {
  if (task.spec.maxRetries >= 0 && task.retries >= task.spec.maxRetries) {
    return { code: ERROR_CODES.NODE_DIED,
      message: `task ${task.spec.name} (${task.spec.taskId}) failed: node ${nodeId}, which ran it, ${why}, after ${task.retries} retries (maxRetries ${task.spec.maxRetries})` };
  }
  if (task.yielded) {
    return { code: ERROR_CODES.NODE_DIED,
      message: `generator task ${task.spec.name} (${task.spec.taskId}) failed: node ${nodeId}, which ran it, ${why}; it had yielded values, so it is not run again` };
  }
  return undefined;
}
