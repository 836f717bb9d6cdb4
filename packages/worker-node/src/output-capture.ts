/**
 * In a worker: what tasks and actors write to process.stdout and process.stderr (console.log,
 * info, warn and error write there too) is taken from the streams and sent to the node in
 * batches, named by the task running it (the task scope follows awaits and timers). A batch goes
 * OUTPUT_FLUSH_MS after the first line that waits, or at once before the message that ends a
 * task that wrote, so that a line written just before a task returns reaches the node ahead of
 * its result. A task that writes nothing costs a check of an empty buffer.
 *
 * Writes outside any task (a module's top level while it loads, the worker's own warnings) go
 * to the streams as before: the node's output.
 */
import { taskScope, type OutputChunk } from '@weft/protocol';
import { OutputBuffer } from './output-buffer.ts';

/** How long a line waits for others before its batch goes to the node. */
export const OUTPUT_FLUSH_MS = 20;

type Write = typeof process.stdout.write;

export class OutputCapture {
  readonly #buffer = new OutputBuffer();
  readonly #send: (chunks: OutputChunk[]) => void;
  readonly #defaultJobId: string;
  #timer: NodeJS.Timeout | undefined;

  constructor(defaultJobId: string, send: (chunks: OutputChunk[]) => void) {
    this.#defaultJobId = defaultJobId;
    this.#send = send;
  }

  /** Take over process.stdout.write and process.stderr.write. */
  install(): void {
    this.#wrap(process.stdout, 'stdout');
    this.#wrap(process.stderr, 'stderr');
  }

  /** Send what waits now; `endedTaskId`: that task ended, its unfinished lines go too. */
  flush(endedTaskId?: string): void {
    if (this.#buffer.idle) return;
    if (endedTaskId !== undefined) this.#buffer.end(endedTaskId);
    if (!this.#buffer.pending) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#send(this.#buffer.take());
  }

  #wrap(stream: NodeJS.WriteStream, name: OutputChunk['stream']): void {
    const original = stream.write.bind(stream) as Write;
    const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const scope = taskScope.getStore();
      if (scope?.name === undefined) return (original as (...args: unknown[]) => boolean)(chunk, encoding, callback);
      const text = typeof chunk === 'string' ? chunk
        : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8');
      this.#buffer.write({ taskId: scope.taskId, jobId: scope.jobId ?? this.#defaultJobId, name: scope.name }, name, text);
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, OUTPUT_FLUSH_MS);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
    stream.write = capture as Write;
  }
}
