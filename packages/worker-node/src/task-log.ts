/**
 * The recent tasks of a node, for the state API (`weft list tasks`, the timeline): a bounded
 * ring, so a node that has run millions of tasks keeps only the last TASK_LOG_SIZE.
 */
import type { ErrorPayload, TaskEvent, TaskSpec } from '@weft/protocol';

const TASK_LOG_SIZE = 10_000;
/** Characters of an error's message kept in the log. */
const MAX_ERROR_MESSAGE_LENGTH = 1_000;

export class TaskLog {
  readonly #tasks = new Map<string, TaskEvent>();

  constructor(private readonly nodeId: string) {}

  submitted(spec: TaskSpec): void {
    const event: TaskEvent = { taskId: spec.taskId, jobId: spec.jobId, name: spec.name, state: 'waiting', nodeId: this.nodeId, submittedAt: Date.now() };
    if (spec.argRefs.length > 0) event.deps = spec.argRefs.map(([, id]) => id);
    this.#tasks.set(spec.taskId, event);
    if (this.#tasks.size > TASK_LOG_SIZE) {
      const oldest = this.#tasks.keys().next().value;
      if (oldest !== undefined) this.#tasks.delete(oldest);
    }
  }

  queued(taskId: string): void {
    const event = this.#tasks.get(taskId);
    if (event) event.state = 'queued';
  }

  started(taskId: string, workerId: string): void {
    const event = this.#tasks.get(taskId);
    if (!event) return;
    event.state = 'running';
    event.startedAt = Date.now();
    event.workerId = workerId;
  }

  finished(taskId: string, error: ErrorPayload | undefined): void {
    const event = this.#tasks.get(taskId);
    if (!event) return;
    event.state = error === undefined ? 'finished' : 'failed';
    event.finishedAt = Date.now();
    if (error === undefined) return;
    event.error = error.code;
    const message = error.remoteName !== undefined ? `${error.remoteName}: ${error.message}` : error.message;
    event.errorMessage = message.slice(0, MAX_ERROR_MESSAGE_LENGTH);
  }

  /** Forget a task handed to another node (that node reports it). */
  forget(taskId: string): void {
    this.#tasks.delete(taskId);
  }

  all(): TaskEvent[] {
    return [...this.#tasks.values()];
  }
}
