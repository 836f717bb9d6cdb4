/**
 * ObjectRefGenerator: what `.remote()` of a generator function returns (Ray's
 * ObjectRefGenerator). The task runs once; each value it yields becomes an object of its own, and
 * the generator hands out their refs in yield order, each as soon as it was yielded, while the
 * task goes on.
 *
 * How the refs get here: the node running the task stores each yielded value and tells the
 * task's owner (the node this process submitted to) as it comes, the way a task's result is
 * told; `next()` asks the owner for the next item (`read-stream`), which answers once it has it,
 * or with null once the task ended without yielding it. The task's own object (`completed()`)
 * then says how it ended: the number of values, or the error it ended with.
 */
import type { ObjectRef } from '@weft/protocol';

/** What a generator needs of the runtime that submitted its task. */
export interface StreamReader {
  /** The id of item `index` of the stream of task `streamId` (held for this process), or null when the task ended before yielding it. */
  readStream(streamId: string, index: number): Promise<string | null>;
  /** A ref for an id the node just handed to this process. */
  newRef<T>(id: string): ObjectRef<T>;
  /** The values of `ids` (throws the first error among them). */
  get(ids: string[]): Promise<unknown[]>;
  /** Cancel the task behind `id`; false when it had finished. */
  cancel(id: string): Promise<boolean>;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The refs a remote generator function (`function*` or `async function*`) yields, as an async
 * iterable: `for await (const ref of gen.remote(n)) console.log(await get(ref))`. Each ref is
 * usable (get it, pass it to tasks) as soon as its value was yielded, before the task ends.
 *
 * - Order: refs come in yield order; `next()` calls made at once are answered one after another,
 *   as an async generator's are. After the last ref, `next()` is done.
 * - Errors: an exception thrown in the generator ends the iteration with its `TaskError`, after
 *   the refs yielded before it; a value that cannot be sent ends it with `SerializationError`.
 *   After that, `next()` is done.
 * - Crashes: a worker that dies before the generator yielded anything is retried up to
 *   `maxRetries`, as any task; once it has yielded, it is not retried (another run might yield
 *   other values, and the consumer has seen part of this one): the iteration ends with
 *   `WorkerCrashedError` (`NodeDiedError` when its node died) after the refs yielded before.
 *   Large yielded values (100 KiB or more) that lived only on a dead node are `ObjectLostError`.
 * - Cancelling: `cancel()` stops the task (the iteration ends with `TaskCancelledError` after the
 *   refs yielded before); leaving a `for await` loop early (`break`, `return`, a throw) cancels it
 *   too, through `return()`. Refs handed out before stay readable.
 * - No backpressure: yields are not throttled by the consumer. A generator that yields faster than
 *   it is read keeps its values in the object store (spilled to disk beyond its memory) until they
 *   are read, or until the generator and its `completed()` ref are dropped.
 * - A generator is read by the process that called `.remote()`; it cannot be passed to tasks or
 *   put (pass the refs it yields instead).
 */
export class ObjectRefGenerator<T = unknown> implements AsyncIterableIterator<ObjectRef<T>, undefined, unknown> {
  readonly #completed: ObjectRef<number>;
  readonly #reader: StreamReader;
  #index = 0;
  #done = false;
  /** The last call in flight: next() and return() run one after another. */
  #tail: Promise<unknown> = Promise.resolve();

  /** @internal Made by `.remote()` of a generator function. */
  constructor(completed: ObjectRef<number>, reader: StreamReader) {
    this.#completed = completed;
    this.#reader = reader;
  }

  /**
   * The next ref, once the task yielded it; done when the task ended after the refs so far.
   * Rejects with the task's error (TaskError, WorkerCrashedError, TaskCancelledError, …) when it
   * ended with one; done after that.
   */
  next(): Promise<IteratorResult<ObjectRef<T>, undefined>> {
    return this.#queue(() => this.#next());
  }

  /** Stop here (a `for await` loop calls it when left early): the task is cancelled if it still runs. */
  return(): Promise<IteratorResult<ObjectRef<T>, undefined>> {
    return this.#queue(async () => {
      if (!this.#done) {
        this.#done = true;
        await this.#reader.cancel(this.#completed.id);
      }
      return DONE;
    });
  }

  /** The generator itself: `for await (const ref of gen)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * A ref to the task's own outcome (Ray's `completed()`): ready when the task has ended; its value
   * is the number of values the generator yielded, or `get` throws the error the task ended with.
   * Holding it keeps the values not read yet (as holding the generator does).
   */
  completed(): ObjectRef<number> {
    return this.#completed;
  }

  /**
   * Stop the task: JavaScript cannot interrupt a function, so its worker ends. The iteration then
   * ends with TaskCancelledError, after the refs yielded before. A task that has ended is not affected.
   */
  async cancel(): Promise<void> {
    await this.#reader.cancel(this.#completed.id);
  }

  /** A short description for logs and the REPL. */
  toString(): string {
    return `ObjectRefGenerator(${this.#completed.id})`;
  }

  /** @internal */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  async #next(): Promise<IteratorResult<ObjectRef<T>, undefined>> {
    if (this.#done) return DONE;
    try {
      const id = await this.#reader.readStream(this.#completed.id, this.#index);
      if (id !== null) {
        this.#index += 1;
        return { done: false, value: this.#reader.newRef<T>(id) };
      }
      this.#done = true;
      // Ended: throws the error it ended with, if any.
      await this.#reader.get([this.#completed.id]);
      return DONE;
    } catch (error) {
      this.#done = true;
      throw error;
    }
  }

  #queue<R>(call: () => Promise<R>): Promise<R> {
    const result = this.#tail.then(call);
    this.#tail = result.catch(() => {});
    return result;
  }
}

/** The prototypes of `function*` and `async function*` functions (bound ones keep their target's). */
const GENERATOR_PROTOTYPES: unknown[] = [Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function* () {})];

/** Whether `fn` was declared `function*` or `async function*` (its `.remote()` then streams). */
export function isGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && GENERATOR_PROTOTYPES.includes(Object.getPrototypeOf(fn));
}
