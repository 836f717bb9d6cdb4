/**
 * The tasks of a node, for the head's task table and the state API. Each task's event (its state,
 * node, worker and times) lives on its scheduler record, mutated in place as the task moves, and
 * goes into the outbox of those that changed since the last batch. The node drains the outbox with
 * its heartbeat (`task-events`): a task that moved several times between two batches is sent once,
 * as it is then. A burst of tiny tasks thus costs a field write and at most one array push per
 * transition here (no Map or Set: hashing per event was what showed in profiles), and one record
 * per task per batch on the wire, never a message per event.
 *
 * Bounded: live tasks are as many as the scheduler holds; finished ones are kept for the node's
 * own `query` answer in a ring of TASK_LOG_SIZE; the outbox holds at most MAX_PENDING_EVENTS
 * events (the head unreachable for long), beyond which new ones are counted as dropped.
 */
import type { ErrorPayload, TaskEvent, TaskSpec } from '@weft/protocol';

const TASK_LOG_SIZE = 10_000;
/** Characters of an error's message kept in the log. */
const MAX_ERROR_MESSAGE_LENGTH = 1_000;
/** Events waiting in the outbox at most (a head that does not drain it: cut off, restarting). */
export const MAX_PENDING_EVENTS = 200_000;

/** What the log keeps on a task's record (the scheduler's TaskRecord). */
export interface Logged {
  readonly spec: TaskSpec;
  /** Its event; undefined: not logged here (not yet, or handed to another node). */
  event: TaskEvent | undefined;
  /** The outbox batch its event was last put in; another number: not in the current one. */
  eventBatch: number;
}

export class TaskLog {
  /** The last TASK_LOG_SIZE finished here, a ring (#doneNext: the next slot to write). */
  readonly #done: TaskEvent[] = [];
  #doneNext = 0;
  #outbox: TaskEvent[] = [];
  /** Numbers the outbox: a task whose eventBatch is this one is in it already. */
  #batch = 1;
  /** Events in the outbox of tasks handed to another node since (skipped at the drain). */
  #forgotten = new Set<TaskEvent>();
  #dropped = 0;

  /** `enabled` false: nothing is logged (no reader: the embedded node, whose head keeps no task table). */
  constructor(private readonly nodeId: string, private readonly enabled = true) {}

  submitted(task: Logged): void {
    // A task with no event goes through every later step untouched.
    if (!this.enabled) return;
    const spec = task.spec;
    const event: TaskEvent = {
      taskId: spec.taskId, jobId: spec.jobId, name: spec.name, state: 'waiting', nodeId: this.nodeId, submittedAt: Date.now(), argBytes: spec.args.data.byteLength,
    };
    if (spec.argRefs.length > 0) event.deps = spec.argRefs.map(([, id]) => id);
    task.event = event;
    task.eventBatch = 0;
    this.#touch(task, event);
  }

  queued(task: Logged): void {
    const event = task.event;
    if (!event) return;
    event.state = 'queued';
    this.#touch(task, event);
  }

  started(task: Logged, workerId: string): void {
    const event = task.event;
    if (!event) return;
    event.state = 'running';
    event.startedAt = Date.now();
    event.workerId = workerId;
    this.#touch(task, event);
  }

  finished(task: Logged, error: ErrorPayload | undefined): void {
    const event = task.event;
    if (!event) return;
    event.state = error === undefined ? 'finished' : 'failed';
    event.finishedAt = Date.now();
    if (error !== undefined) {
      event.error = error.code;
      const message = error.remoteName !== undefined ? `${error.remoteName}: ${error.message}` : error.message;
      event.errorMessage = message.slice(0, MAX_ERROR_MESSAGE_LENGTH);
    }
    this.#done[this.#doneNext] = event;
    this.#doneNext = (this.#doneNext + 1) % TASK_LOG_SIZE;
    this.#touch(task, event);
    task.event = undefined;
  }

  /**
   * Forget a task handed to another node (that node reports it from now on). What was already
   * sent of it stays at the head until that node's reports replace it; what was not goes unsent.
   */
  forget(task: Logged): void {
    const event = task.event;
    if (!event) return;
    if (task.eventBatch === this.#batch) this.#forgotten.add(event);
    task.event = undefined;
  }

  /**
   * The tasks that changed since the last drain, each as it is now, and how many events were
   * dropped meanwhile; empties the outbox. A live task's event is copied (the log keeps changing
   * it); a finished one's is not (it never changes again).
   */
  drain(): { events: TaskEvent[]; dropped: number } {
    const outbox = this.#outbox;
    const forgotten = this.#forgotten;
    const dropped = this.#dropped;
    this.#outbox = [];
    this.#forgotten = new Set();
    this.#dropped = 0;
    this.#batch += 1;
    const events: TaskEvent[] = [];
    for (const event of outbox) {
      if (forgotten.size > 0 && forgotten.has(event)) continue;
      events.push(event.state === 'finished' || event.state === 'failed' ? event : { ...event });
    }
    return { events, dropped };
  }

  /** The recent finished tasks, oldest first. */
  recent(): TaskEvent[] {
    return [...this.#done.slice(this.#doneNext), ...this.#done.slice(0, this.#doneNext)];
  }

  #touch(task: Logged, event: TaskEvent): void {
    if (task.eventBatch === this.#batch) return;
    if (this.#outbox.length >= MAX_PENDING_EVENTS) {
      this.#dropped += 1;
      return;
    }
    task.eventBatch = this.#batch;
    this.#outbox.push(event);
  }
}
