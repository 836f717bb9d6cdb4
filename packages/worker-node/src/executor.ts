/**
 * Runs tasks inside a worker: imports the task's module on first use, finds the remote function
 * in the registry, resolves its top-level ObjectRef arguments from the values the node sent,
 * runs it in the task's scope, and reports the encoded result or the error.
 *
 * Tasks arrive in order and run one at a time: a task starts when no other task is active. The
 * node may send tiny tasks ahead (a backlog), so that the worker never idles for a round trip.
 * A task waiting in get/wait is not active: the next one starts meanwhile, and they interleave
 * at awaits. The node counts the same start, wait and finish events to account resources.
 *
 * Calls of a function with maxConcurrency > 1 overlap: the node sends a further call of it to the
 * worker running its calls with `join`, while fewer than maxConcurrency of them run here, and such
 * a call starts at once beside them, interleaving at their awaits. The node keeps that count; the
 * worker runs what it is told to join. A sync function's calls still run one after another.
 * The items of a map's chunk of such a function overlap too, so that a chunk of 50 downloads takes
 * the time of one, not of 50: each item takes one of the function's maxConcurrency slots in this
 * worker (CallSlots), shared by all its chunks here, which keeps the items in flight within N
 * however the map cut them into chunks. Plain calls take no slot (the node counts them): a call
 * waiting for a slot its own caller holds would never start.
 */
import {
  ERROR_CODES, SystemError, WeftError, decode, encode, taskScope, toErrorPayload, userStack, type ErrorPayload,
  type ClientRuntime, type EncodedValue, type Result, type TaskSpec, type TaskBatch,
} from '@weft/protocol';
import type { ModuleLoader } from './module-loader.ts';
import { QuickCalls } from './quick-calls.ts';

type AnyFunction = (...args: unknown[]) => unknown;

export class Executor {
  readonly #runtime: ClientRuntime;
  readonly #loader: ModuleLoader;
  readonly #backlog: Array<{ task: TaskSpec; argValues: Array<[string, EncodedValue]> }> = [];
  /** Tasks started and not waiting in get/wait. */
  #active = 0;
  /** Ids of tasks started and not finished, with whether each is waiting. */
  readonly #running = new Map<string, { waits: number }>();
  /** Per function with maxConcurrency > 1: the slots the items of its chunks share here. */
  readonly #slots = new Map<string, CallSlots>();
  /** The functions loaded here, by job, module and name. */
  readonly #loaded = new Map<string, AnyFunction>();
  #pumping = false;
  readonly #quick: QuickCalls;

  /** @param quick when results leave (see QuickCalls). */
  constructor(runtime: ClientRuntime, loader: ModuleLoader, quick = new QuickCalls(() => {})) {
    this.#runtime = runtime;
    this.#loader = loader;
    this.#quick = quick;
    runtime.waitHooks = {
      blocked: (taskId) => {
        const running = this.#running.get(taskId);
        if (!running || running.waits++ > 0) return;
        this.#active -= 1;
        this.#pump();
      },
      unblocked: (taskId) => {
        const running = this.#running.get(taskId);
        if (!running || running.waits === 0 || --running.waits > 0) return;
        this.#active += 1;
      },
    };
  }

  /** Queue a task; it starts when no other task is active, or at once when it joins the running calls of its function. */
  execute(task: TaskSpec, argValues: Array<[string, EncodedValue]>, join = false): void {
    if (join) return this.#start(task, argValues);
    this.#backlog.push({ task, argValues });
    this.#pump();
  }

  /** Forget a queued task that has not started (it was cancelled). */
  drop(taskId: string): void {
    const index = this.#backlog.findIndex((item) => item.task.taskId === taskId);
    if (index >= 0) this.#backlog.splice(index, 1);
  }

  #pump(): void {
    // A task that ends at once ends inside #start and pumps again: the loop here takes the next.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#active === 0) {
        const next = this.#backlog.shift();
        if (!next) return;
        this.#start(next.task, next.argValues);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(task: TaskSpec, argValues: Array<[string, EncodedValue]>): void {
    const running = { waits: 0 };
    this.#running.set(task.taskId, running);
    this.#active += 1;
    const key = `${task.jobId}\0${task.fn.module}\0${task.fn.name}`;
    this.#quick.starting(key);
    const started = performance.now();
    const finish = (result: Result): void => {
      this.#running.delete(task.taskId);
      if (running.waits === 0) this.#active -= 1;
      const runMs = performance.now() - started;
      this.#quick.ended(key, runMs);
      this.#runtime.send({ type: 'task-done', taskId: task.taskId, result, runMs });
      this.#pump();
    };
    // A plain call of a function loaded before runs now, and, when it returns a value rather than
    // a promise, ends now: no promise and no microtask per tiny task.
    const fn = task.batch || task.generator ? undefined : this.#loaded.get(key);
    whenSettled(fn ? this.#call(task, fn, argValues) : this.#run(task, argValues, key), finish);
  }

  /** A plain call of a loaded function: its result, or a promise of it when the function returned a thenable. */
  #call(task: TaskSpec, fn: AnyFunction, argValues: Array<[string, EncodedValue]>): Result | Promise<Result> {
    let args: unknown[];
    try {
      args = decodeArgs(task.name, task.args, task.argRefs, argValues);
    } catch (error) {
      return { status: 'error', error: toErrorPayload(error) };
    }
    let value: unknown;
    try {
      value = taskScope.run({ taskId: task.taskId, name: task.name, jobId: task.jobId, workingDir: this.#loader.dirOf(task.jobId) }, () => fn(...args));
    } catch (error) {
      return { status: 'error', error: userError(task.name, error) };
    }
    return settle(value, task.name, (resolved) => encodeResult(`task ${task.name}`, resolved));
  }

  async #run(task: TaskSpec, argValues: Array<[string, EncodedValue]>, key: string): Promise<Result> {
    let fn: AnyFunction;
    let args: unknown[];
    try {
      fn = await this.#loader.loadFunction(task.fn, task.jobId);
      this.#loaded.set(key, fn);
      args = decodeArgs(task.name, task.args, task.argRefs, argValues);
    } catch (error) {
      return { status: 'error', error: toErrorPayload(error) };
    }
    if (task.batch) return this.#runBatch(task, task.batch, fn, args);
    if (task.generator) return this.#runGenerator(task, fn, args);
    let value: unknown;
    try {
      value = await taskScope.run({ taskId: task.taskId, name: task.name, jobId: task.jobId, workingDir: this.#loader.dirOf(task.jobId) }, () => fn(...args));
    } catch (error) {
      return { status: 'error', error: userError(task.name, error) };
    }
    return encodeResult(`task ${task.name}`, value);
  }

  /** The slots of the task's function when its calls may overlap (maxConcurrency > 1). */
  #slotsOf(task: TaskSpec): CallSlots | undefined {
    const limit = task.maxConcurrency ?? 1;
    if (limit <= 1) return undefined;
    const key = `${task.jobId}\0${task.fn.module}\0${task.fn.name}\0${String(limit)}`;
    let slots = this.#slots.get(key);
    if (!slots) this.#slots.set(key, (slots = new CallSlots(limit)));
    return slots;
  }

  /** A chunk of a map: the function once per item, in order; `{ values, ms }`, or the first item's error, naming its index. */
  async #runBatch(task: TaskSpec, batch: TaskBatch, fn: AnyFunction, args: unknown[]): Promise<Result> {
    const { sizes } = batch;
    if (sizes && sizes.reduce((total, size) => total + size, 0) !== args.length) {
      return { status: 'error', error: { code: ERROR_CODES.SYSTEM, message: `chunk of ${task.name}: ${args.length} arguments for items of ${sizes.join('+')}` } };
    }
    const count = sizes ? sizes.length : args.length;
    const values: unknown[] = new Array(count);
    const started = performance.now();
    // Where each item's arguments start in `args`.
    const starts = sizes ? prefixSums(sizes) : undefined;
    const call = (i: number): unknown => (sizes === undefined ? fn(args[i]) : fn(...args.slice(starts![i], starts![i]! + sizes[i]!)));
    const failure = (i: number, error: unknown): ErrorPayload => {
      const payload = userError(task.name, error);
      return payload.code === ERROR_CODES.TASK_ERROR ? { ...payload, message: `item ${batch.offset + i}: ${payload.message}` } : payload;
    };
    const slots = this.#slotsOf(task);
    const scope = { taskId: task.taskId, name: task.name, jobId: task.jobId, workingDir: this.#loader.dirOf(task.jobId) };
    // One scope for the chunk, and an await only for an item that returns a thenable: the items
    // of a map of tiny calls cost a call each.
    const failed = await taskScope.run(scope, async () => {
      if (slots) return runOverlapping(count, slots, values, call, failure);
      for (let i = 0; i < count; i++) {
        try {
          const value = call(i);
          values[i] = isThenable(value) ? await value : value;
        } catch (error) {
          return failure(i, error);
        }
      }
      return undefined;
    });
    if (failed) return { status: 'error', error: failed };
    return encodeResult(`task ${task.name}`, { values, ms: performance.now() - started });
  }

  /**
   * A generator task (Ray's streaming generator): each value is encoded and sent to the node as it
   * is yielded (`task-yield`, numbered from 0), before the generator is asked for the next, so the
   * node has the values in order and before the `task-done` that ends the stream. The result is
   * the number of values yielded. Nothing throttles it (no backpressure): the values wait in the
   * object store until they are read. A value that cannot be sent ends it with that error, an
   * exception with its TaskError, after the values yielded before.
   */
  async #runGenerator(task: TaskSpec, fn: AnyFunction, args: unknown[]): Promise<Result> {
    let index = 0;
    try {
      // The body runs in each next() call: all of them in the task's scope, for its nested tasks.
      return await taskScope.run({ taskId: task.taskId, name: task.name, jobId: task.jobId, workingDir: this.#loader.dirOf(task.jobId) }, async () => {
        // `for await` takes sync generators too (awaiting what they yield), and closes the generator on an early return.
        for await (const value of fn(...args) as AsyncIterable<unknown>) {
          const encoded = encodeResult(`task ${task.name} (its value ${index})`, value);
          if (encoded.status === 'error') return encoded;
          this.#runtime.send({ type: 'task-yield', taskId: task.taskId, index, value: encoded.value });
          index += 1;
        }
        return encodeResult(`task ${task.name}`, index);
      });
    } catch (error) {
      return { status: 'error', error: userError(task.name, error) };
    }
  }


}

/** The payload of an error thrown by user code: TaskError, or weft's own error passed through. */
export function userError(taskName: string, error: unknown): ErrorPayload {
  // weft's own errors (a nested get of a cancelled or failed child) pass through as themselves.
  if (error instanceof WeftError && Object.values(ERROR_CODES).includes(error.code)) return toErrorPayload(error);
  if (error instanceof Error) {
    // A subclass that does not set `name` still reports its class (class ValidationError extends Error {}).
    const remoteName = error.name === 'Error' && error.constructor.name ? error.constructor.name : error.name;
    // User code may set these to anything: the node drops a task-done whose error fields are not strings.
    return { code: ERROR_CODES.TASK_ERROR, message: String(error.message), taskName, remoteName: String(remoteName),
      remoteStack: typeof error.stack === 'string' ? userStack(error.stack) : '' };
  }
  return { code: ERROR_CODES.TASK_ERROR, message: String(error), taskName, remoteName: typeof error, remoteStack: '' };
}

/** Decode a call's arguments, with its top-level refs replaced by the values that came with it. */
export function decodeArgs(name: string, encoded: EncodedValue, argRefs: Array<[number, string]>, argValues: Array<[string, EncodedValue]>): unknown[] {
  const args = decode(encoded.data) as unknown[];
  if (argRefs.length === 0) return args;
  const values = new Map(argValues);
  for (const [index, id] of argRefs) {
    const value = values.get(id);
    if (!value) throw new SystemError(`argument ${index} of ${name} (object ${id}) did not arrive with the call`);
    args[index] = decode(value.data);
  }
  return args;
}

/** Encode what a task or method returned; a value that cannot be sent fails the call. */
export function encodeResult(name: string, value: unknown): Result {
  try {
    return { status: 'ok', value: encode(value) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 'error', error: { code: ERROR_CODES.SERIALIZATION, message: `${name} returned a value that cannot be sent: ${message}` } };
  }
}

/**
 * The items of a chunk of a function whose calls may overlap: lanes take the next item while the
 * function's slots allow, so up to maxConcurrency of them await at once. After a failure no item
 * starts; the ones running are awaited (the node counts the chunk until it is done), and the first
 * failure, by index, is the chunk's error.
 */
async function runOverlapping(count: number, slots: CallSlots, values: unknown[], call: (i: number) => unknown,
  failure: (i: number, error: unknown) => ErrorPayload): Promise<ErrorPayload | undefined> {
  let next = 0;
  let failedAt = -1;
  let failed: ErrorPayload | undefined;
  const lane = async (): Promise<void> => {
    while (failed === undefined && next < count) {
      await slots.acquire();
      const i = next++;
      try {
        if (i >= count || failed !== undefined) continue;
        values[i] = await call(i);
      } catch (error) {
        if (failedAt < 0 || i < failedAt) {
          failedAt = i;
          failed = failure(i, error);
        }
      } finally {
        slots.release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, slots.limit) }, lane));
  return failed;
}

/**
 * Counting slots for the calls of one function in this worker (its maxConcurrency): acquire waits,
 * in order, while all are taken.
 */
class CallSlots {
  readonly limit: number;
  #taken = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  acquire(): Promise<void> | void {
    if (this.#taken < this.limit) {
      this.#taken += 1;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    // A waiter takes the freed slot over: the count stays.
    const next = this.#waiting.shift();
    if (next) next();
    else this.#taken -= 1;
  }
}

function prefixSums(sizes: number[]): number[] {
  const starts = new Array<number>(sizes.length);
  let at = 0;
  for (let i = 0; i < sizes.length; i++) {
    starts[i] = at;
    at += sizes[i] as number;
  }
  return starts;
}

/**
 * The result of a call that returned `value`: `toResult(value)` now, or, when `value` is a
 * thenable, a promise of `toResult` of what it resolves to (or of the error it rejects with).
 */
export function settle(value: unknown, name: string, toResult: (value: unknown) => Result): Result | Promise<Result> {
  if (!isThenable(value)) return toResult(value);
  return Promise.resolve(value).then(toResult, (error: unknown): Result => ({ status: 'error', error: userError(name, error) }));
}

/** Calls `finish` with the result: now when it is one, when it settles when it is a promise. */
export function whenSettled(result: Result | Promise<Result>, finish: (result: Result) => void): void {
  if (result instanceof Promise) void result.then(finish);
  else finish(result);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
