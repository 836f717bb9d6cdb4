/**
 * The lines the tasks and actors of this node wrote, kept for `weft logs` and the state API:
 * the last MAX_LINES_PER_TASK of each task (older ones are counted as dropped, on the first line
 * kept), and at most MAX_LOG_LINES lines and MAX_LOG_CHARS characters in all, beyond which the tasks written to least recently go
 * whole. Lines are numbered in the order they arrive (`seq`), so that a follower asks for those
 * after the last it saw.
 */
import type { LogLine, OutputChunk } from '@weft/protocol';

/** Lines kept per task (or actor call, or actor). */
export const MAX_LINES_PER_TASK = 1_000;
/** Characters of lines kept on a node in all. */
export const MAX_LOG_CHARS = 32 * 1024 * 1024;
/** Lines kept on a node in all (each costs an object beside its text). */
export const MAX_LOG_LINES = 200_000;

/** Which lines a query wants; each absent: any. */
export interface LogFilter {
  jobId?: string | undefined;
  taskId?: string | undefined;
  /** Lines numbered after this one. */
  afterSeq?: number | undefined;
}

interface TaskLines {
  lines: LogLine[];
  chars: number;
}

export class TaskLogs {
  /** By task, the task written to least recently first. */
  readonly #tasks = new Map<string, TaskLines>();
  #chars = 0;
  #count = 0;
  #seq = 0;
  readonly #maxLinesPerTask: number;
  readonly #maxChars: number;
  readonly #maxLines: number;

  constructor(limits: { maxLinesPerTask?: number; maxChars?: number; maxLines?: number } = {}) {
    this.#maxLinesPerTask = limits.maxLinesPerTask ?? MAX_LINES_PER_TASK;
    this.#maxChars = limits.maxChars ?? MAX_LOG_CHARS;
    this.#maxLines = limits.maxLines ?? MAX_LOG_LINES;
  }

  /** Keep a chunk's lines (a line-less chunk keeps its count of dropped lines as an empty line). */
  add(chunk: OutputChunk, time = Date.now()): void {
    let task = this.#tasks.get(chunk.taskId);
    if (task) this.#tasks.delete(chunk.taskId);
    task ??= { lines: [], chars: 0 };
    this.#tasks.set(chunk.taskId, task);
    const { taskId, jobId, name, stream } = chunk;
    let dropped = chunk.dropped ?? 0;
    if (chunk.lines.length === 0 && dropped > 0) {
      this.#push(task, { taskId, jobId, name, stream, text: '', time, seq: ++this.#seq, dropped });
    }
    for (const text of chunk.lines) {
      const line: LogLine = { taskId, jobId, name, stream, text, time, seq: ++this.#seq };
      if (dropped > 0) line.dropped = dropped;
      dropped = 0;
      this.#push(task, line);
    }
    this.#trim();
  }

  /** The kept lines that match, in the order they arrived. */
  query(filter: LogFilter = {}): LogLine[] {
    const tasks = filter.taskId !== undefined ? [this.#tasks.get(filter.taskId)] : [...this.#tasks.values()];
    const found: LogLine[] = [];
    for (const task of tasks) {
      for (const line of task?.lines ?? []) {
        if (filter.jobId !== undefined && line.jobId !== filter.jobId) break;
        if (filter.afterSeq === undefined || line.seq > filter.afterSeq) found.push(line);
      }
    }
    return filter.taskId !== undefined ? found : found.sort((a, b) => a.seq - b.seq);
  }

  #push(task: TaskLines, line: LogLine): void {
    task.lines.push(line);
    task.chars += line.text.length;
    this.#chars += line.text.length;
    this.#count += 1;
    if (task.lines.length <= this.#maxLinesPerTask) return;
    const oldest = task.lines.shift() as LogLine;
    task.chars -= oldest.text.length;
    this.#chars -= oldest.text.length;
    this.#count -= 1;
    // The first line kept says how many went before it.
    const first = task.lines[0] as LogLine;
    first.dropped = (first.dropped ?? 0) + (oldest.dropped ?? 0) + (oldest.text === '' && oldest.dropped ? 0 : 1);
  }

  #trim(): void {
    for (const [taskId, task] of this.#tasks) {
      if ((this.#chars <= this.#maxChars && this.#count <= this.#maxLines) || this.#tasks.size === 1) return;
      this.#tasks.delete(taskId);
      this.#chars -= task.chars;
      this.#count -= task.lines.length;
    }
  }
}
