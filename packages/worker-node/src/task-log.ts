/**
 * The tasks of a node, for the head's task table and the state API: each task's event (its state,
 * node, worker and times, mutated in place as it moves), and the outbox of those that changed
 * since the last batch. The node drains the outbox with its heartbeat (`task-events`): a task
 * that moved several times between two batches is sent once, as it is then, so a burst of tiny
 * tasks costs a Map and a Set operation per transition here and one record per task per batch on
 * the wire, never a message per event.
 *
 * Bounded: live tasks are as many as the scheduler holds; finished ones are kept for the node's
 * own `query` answer up to TASK_LOG_SIZE; the outbox holds at most MAX_PENDING_EVENTS tasks
 * (the head unreachable for long), beyond which new tasks are counted as dropped.
 */
import type { TaskEvent, TaskSpec } from '@weft/protocol';

const TASK_LOG_SIZE = 10_000;
/** Tasks waiting in the outbox at most (a head that does not drain it: cut off, restarting). */
export const MAX_PENDING_EVENTS = 200_000;

export class TaskLog {
  /** Tasks not finished here. */
  readonly #live = new Map<string, TaskEvent>();
  /** The last TASK_LOG_SIZE finished here, oldest first. */
  readonly #done = new Map<string, TaskEvent>();
  /** Events changed since the last drain. */
  #changed = new Set<TaskEvent>();
  #dropped = 0;

  constructor(private readonly nodeId: string) {}

  submitted(spec: TaskSpec): void {
    const event: TaskEvent = { taskId: spec.taskId, jobId: spec.jobId, name: spec.name, state: 'waiting', nodeId: this.nodeId, submittedAt: Date.now() };
    if (spec.argRefs.length > 0) event.deps = spec.argRefs.map(([, id]) => id);
    this.#done.delete(spec.taskId);
    this.#live.set(spec.taskId, event);
    this.#touch(event);
  }

  queued(taskId: string): void {
    const event = this.#live.get(taskId);
    if (!event) return;
    event.state = 'queued';
    this.#touch(event);
  }

  started(taskId: string, workerId: string): void {
    const event = this.#live.get(taskId);
    if (!event) return;
    event.state = 'running';
    event.startedAt = Date.now();
    event.workerId = workerId;
    this.#touch(event);
  }

  finished(taskId: string, error: string | undefined): void {
    const event = this.#live.get(taskId);
    if (!event) return;
    this.#live.delete(taskId);
    event.state = error === undefined ? 'finished' : 'failed';
    event.finishedAt = Date.now();
    if (error !== undefined) event.error = error;
    this.#done.set(taskId, event);
    if (this.#done.size > TASK_LOG_SIZE) {
      const oldest = this.#done.keys().next().value;
      if (oldest !== undefined) this.#done.delete(oldest);
    }
    this.#touch(event);
  }

  /**
   * Forget a task handed to another node (that node reports it from now on). What was already
   * sent of it stays at the head until that node's reports replace it; what was not goes unsent.
   */
  forget(taskId: string): void {
    const event = this.#live.get(taskId);
    if (!event) return;
    this.#live.delete(taskId);
    this.#changed.delete(event);
  }

  /**
   * The tasks that changed since the last drain, each a copy as it is now (the log keeps mutating
   * its own), and how many were dropped meanwhile; empties the outbox.
   */
  drain(): { events: TaskEvent[]; dropped: number } {
    const changed = this.#changed;
    const dropped = this.#dropped;
    this.#changed = new Set();
    this.#dropped = 0;
    const events: TaskEvent[] = [];
    for (const event of changed) events.push({ ...event });
    return { events, dropped };
  }

  /** Live tasks, then the recent finished ones. */
  all(): TaskEvent[] {
    return [...this.#live.values(), ...this.#done.values()];
  }

  #touch(event: TaskEvent): void {
    if (this.#changed.size >= MAX_PENDING_EVENTS && !this.#changed.has(event)) {
      this.#dropped += 1;
      return;
    }
    this.#changed.add(event);
  }
}
