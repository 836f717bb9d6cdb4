/**
 * Runs tasks inside a worker: imports the task's module on first use, finds the remote function
 * in the registry, resolves its top-level ObjectRef arguments from the values the node sent,
 * runs it in the task's scope, and reports the encoded result or the error.
 *
 * Tasks arrive in order and run one at a time: a task starts when no other task is active. The
 * node may send tiny tasks ahead (a backlog), so that the worker never idles for a round trip.
 * A task waiting in get/wait is not active: the next one starts meanwhile, and they interleave
 * at awaits. The node counts the same start, wait and finish events to account resources.
 */
import path from 'node:path';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  DRIVER_CODE_IN_WORKER, ERROR_CODES, SystemError, WeftError, decode, definitionsIn, encode,
  lookupDefinition, taskScope, toErrorPayload, userStack,
  type ClientRuntime, type EncodedValue, type ErrorPayload, type FunctionDescriptor, type Result, type TaskSpec,
} from '@weft/core';

type WorkerStateLike = { importing: boolean };
type AnyFunction = (...args: unknown[]) => unknown;

export class Executor {
  readonly #runtime: ClientRuntime;
  readonly #workingDir: string;
  readonly #state: WorkerStateLike;
  readonly #modules = new Map<string, Promise<string>>();
  readonly #backlog: Array<{ task: TaskSpec; argValues: Array<[string, EncodedValue]> }> = [];
  /** Tasks started and not waiting in get/wait. */
  #active = 0;
  /** Ids of tasks started and not finished, with whether each is waiting. */
  readonly #running = new Map<string, { waits: number }>();

  constructor(runtime: ClientRuntime, workingDir: string, state: WorkerStateLike) {
    this.#runtime = runtime;
    this.#workingDir = workingDir;
    this.#state = state;
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

  /** Queue a task; it starts when no other task is active. */
  execute(task: TaskSpec, argValues: Array<[string, EncodedValue]>): void {
    this.#backlog.push({ task, argValues });
    this.#pump();
  }

  /** Forget a queued task that has not started (it was cancelled). */
  drop(taskId: string): void {
    const index = this.#backlog.findIndex((item) => item.task.taskId === taskId);
    if (index >= 0) this.#backlog.splice(index, 1);
  }

  #pump(): void {
    while (this.#active === 0) {
      const next = this.#backlog.shift();
      if (!next) return;
      this.#start(next.task, next.argValues);
    }
  }

  #start(task: TaskSpec, argValues: Array<[string, EncodedValue]>): void {
    const running = { waits: 0 };
    this.#running.set(task.taskId, running);
    this.#active += 1;
    const started = performance.now();
    void this.#run(task, argValues).then((result) => {
      this.#running.delete(task.taskId);
      if (running.waits === 0) this.#active -= 1;
      this.#runtime.send({ type: 'task-done', taskId: task.taskId, result, runMs: performance.now() - started });
      this.#pump();
    });
  }

  async #run(task: TaskSpec, argValues: Array<[string, EncodedValue]>): Promise<Result> {
    let fn: AnyFunction;
    let args: unknown[];
    try {
      fn = await this.#load(task.fn);
      args = this.#decodeArgs(task, argValues);
    } catch (error) {
      return { status: 'error', error: toErrorPayload(error) };
    }
    let value: unknown;
    try {
      value = await taskScope.run({ taskId: task.taskId }, () => fn(...args));
    } catch (error) {
      return { status: 'error', error: userError(task.name, error) };
    }
    try {
      return { status: 'ok', value: encode(value) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: 'error', error: { code: ERROR_CODES.SERIALIZATION, message: `task ${task.name} returned a value that cannot be sent: ${message}` } };
    }
  }

  #decodeArgs(task: TaskSpec, argValues: Array<[string, EncodedValue]>): unknown[] {
    const args = decode(task.args.data) as unknown[];
    if (task.argRefs.length === 0) return args;
    const values = new Map(argValues);
    for (const [index, id] of task.argRefs) {
      const value = values.get(id);
      if (!value) throw new SystemError(`argument ${index} of task ${task.name} (object ${id}) did not arrive with the task`);
      args[index] = decode(value.data);
    }
    return args;
  }

  async #load(fn: FunctionDescriptor): Promise<AnyFunction> {
    const file = path.isAbsolute(fn.module) ? fn.module : path.resolve(this.#workingDir, fn.module);
    let loading = this.#modules.get(file);
    if (!loading) {
      loading = this.#import(file);
      this.#modules.set(file, loading);
    }
    const real = await loading;
    const found = lookupDefinition(real, fn.name);
    if (typeof found !== 'function') {
      const known = definitionsIn(real);
      throw new SystemError(`remote function ${fn.name} is not defined in ${fn.module} (found: ${known.join(', ') || 'none'}). `
        + 'Define remote functions at the top level of a module, above any await init() in that module.',
      ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    }
    return found as AnyFunction;
  }

  async #import(file: string): Promise<string> {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new SystemError(`cannot find module ${file} for a task: is the working directory right?`, ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    }
    this.#state.importing = true;
    try {
      await import(pathToFileURL(real).href);
    } catch (error) {
      // A driver script stops at its init(): what it defined above that is all a worker needs.
      if (!(error && typeof error === 'object' && DRIVER_CODE_IN_WORKER in error)) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        throw new SystemError(`importing ${file} in a worker failed: ${message}`, ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
      }
    } finally {
      this.#state.importing = false;
    }
    return real;
  }
}

function userError(taskName: string, error: unknown): ErrorPayload {
  // weft's own errors (a nested get of a cancelled or failed child) pass through as themselves.
  if (error instanceof WeftError) return toErrorPayload(error);
  if (error instanceof Error) {
    // A subclass that does not set `name` still reports its class (class ValidationError extends Error {}).
    const remoteName = error.name === 'Error' && error.constructor.name ? error.constructor.name : error.name;
    return { code: ERROR_CODES.TASK_ERROR, message: error.message, taskName, remoteName, remoteStack: userStack(error.stack) };
  }
  return { code: ERROR_CODES.TASK_ERROR, message: String(error), taskName, remoteName: typeof error, remoteStack: '' };
}
