/**
 * What a worker's tasks and actors wrote, cut into lines and held until the next batch goes to
 * the node. Writes come in pieces (`process.stdout.write('a'); …write('b\n')`): each task and
 * stream keeps its unfinished line until its newline, or until the task ends. Bounded: past
 * MAX_PENDING_LINES lines (or MAX_PENDING_CHARS characters) between two batches, lines are
 * dropped and counted, and the next chunk of that task says how many (`dropped`), so a task
 * printing in a tight loop costs a worker at most that much memory.
 */
import type { OutputChunk } from '@weft/protocol';

/** A line longer than this is cut (the rest starts a new line). */
export const MAX_LINE_CHARS = 16_384;
/** Lines a worker holds between two batches; beyond, lines are dropped and counted. */
export const MAX_PENDING_LINES = 2_000;
/** Characters a worker holds between two batches; beyond, lines are dropped and counted. */
export const MAX_PENDING_CHARS = 1 << 20;

/** Who wrote: the task's scope. */
export interface OutputSource {
  taskId: string;
  jobId: string;
  name: string;
}

type Stream = OutputChunk['stream'];

/** An unfinished line of one task and stream, and the lines of it dropped since its last chunk. */
interface TaskStream {
  source: OutputSource;
  stream: Stream;
  partial: string;
  dropped: number;
}

export class OutputBuffer {
  /** Chunks in the order written; consecutive lines of one task and stream share one. */
  #chunks: OutputChunk[] = [];
  readonly #streams = new Map<string, TaskStream>();
  #lines = 0;
  #chars = 0;

  /** Whether nothing was written since the last batch: the common case, checked on every task's end. */
  get idle(): boolean {
    return this.#chunks.length === 0 && this.#streams.size === 0;
  }

  /** Whether anything waits to be sent (lines, or counts of dropped ones). */
  get pending(): boolean {
    return this.#chunks.length > 0 || this.#hasDropped();
  }

  /** Text `source` wrote to `stream`: its finished lines are held, its unfinished tail kept for the next write. */
  write(source: OutputSource, stream: Stream, text: string): void {
    const key = `${source.taskId}\0${stream}`;
    let state = this.#streams.get(key);
    if (!state) this.#streams.set(key, (state = { source, stream, partial: '', dropped: 0 }));
    let start = 0;
    for (let newline = text.indexOf('\n', start); newline >= 0; newline = text.indexOf('\n', start)) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      this.#line(state, state.partial + text.slice(start, end));
      state.partial = '';
      start = newline + 1;
    }
    state.partial += text.slice(start);
    while (state.partial.length >= MAX_LINE_CHARS) {
      this.#line(state, state.partial.slice(0, MAX_LINE_CHARS));
      state.partial = state.partial.slice(MAX_LINE_CHARS);
    }
  }

  /** The task ended: its unfinished lines count as lines, and its state goes. */
  end(taskId: string): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const key = `${taskId}\0${stream}`;
      const state = this.#streams.get(key);
      if (!state) continue;
      if (state.partial !== '') this.#line(state, state.partial);
      state.partial = '';
      if (state.dropped > 0) this.#chunks.push(this.#chunk(state));
      this.#streams.delete(key);
    }
  }

  /** The chunks held so far (then empty), with a line-less chunk for each count of dropped lines not told yet. */
  take(): OutputChunk[] {
    for (const [key, state] of this.#streams) {
      if (state.dropped > 0) this.#chunks.push(this.#chunk(state));
      // Only unfinished lines are kept between batches (a task's timers may write after it ended).
      if (state.partial === '') this.#streams.delete(key);
    }
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#lines = 0;
    this.#chars = 0;
    return chunks;
  }

  #line(state: TaskStream, text: string): void {
    if (text.length <= MAX_LINE_CHARS) return this.#keep(state, text);
    for (let at = 0; at < text.length; at += MAX_LINE_CHARS) this.#keep(state, text.slice(at, at + MAX_LINE_CHARS));
  }

  #keep(state: TaskStream, line: string): void {
    if (this.#lines >= MAX_PENDING_LINES || this.#chars + line.length > MAX_PENDING_CHARS) {
      state.dropped += 1;
      return;
    }
    this.#lines += 1;
    this.#chars += line.length;
    const last = this.#chunks[this.#chunks.length - 1];
    if (last && state.dropped === 0 && last.taskId === state.source.taskId && last.stream === state.stream) last.lines.push(line);
    else this.#chunks.push({ ...this.#chunk(state), lines: [line] });
  }

  /** A chunk of `state`'s task carrying (and resetting) its count of dropped lines. */
  #chunk(state: TaskStream): OutputChunk {
    const chunk: OutputChunk = { taskId: state.source.taskId, jobId: state.source.jobId, name: state.source.name, stream: state.stream, lines: [] };
    if (state.dropped > 0) chunk.dropped = state.dropped;
    state.dropped = 0;
    return chunk;
  }

  #hasDropped(): boolean {
    for (const state of this.#streams.values()) if (state.dropped > 0) return true;
    return false;
  }
}
