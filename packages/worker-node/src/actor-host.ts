/**
 * Hosts one actor inside its worker: constructs it, then runs its method calls in the order
 * they arrive, starting a call while fewer than `maxConcurrency` are running. A sync method runs
 * to its end before anything else (JavaScript is single-threaded), so only async methods overlap.
 */
import {
  ERROR_CODES, encode, taskScope, toErrorPayload, type ActorCallSpec, type ActorSpec, type ClientRuntime,
  type EncodedValue, type Result,
} from '@weft/protocol';
import { decodeArgs, encodeResult, userError } from './executor.ts';
import type { ModuleLoader } from './module-loader.ts';

type Call = { call: ActorCallSpec; argValues: Array<[string, EncodedValue]> };

export class ActorHost {
  readonly #runtime: ClientRuntime;
  readonly #loader: ModuleLoader;
  #instance: Record<string, unknown> | undefined;
  #spec: ActorSpec | undefined;
  readonly #queue: Call[] = [];
  #running = 0;

  constructor(runtime: ClientRuntime, loader: ModuleLoader) {
    this.#runtime = runtime;
    this.#loader = loader;
  }

  /** Construct the actor and report how it went. */
  async create(spec: ActorSpec, argValues: Array<[string, EncodedValue]>): Promise<void> {
    this.#spec = spec;
    let result: Result;
    try {
      const cls = await this.#loader.loadClass(spec.cls, spec.jobId);
      const args = decodeArgs(`${spec.cls.name} constructor`, spec.args, spec.argRefs, argValues);
      try {
        this.#instance = taskScope.run({ taskId: spec.actorId, name: spec.cls.name.replace(/#\d+$/, ''), actorId: spec.actorId, jobId: spec.jobId, workingDir: this.#loader.dirOf(spec.jobId) },
          () => new (cls as unknown as new (...a: unknown[]) => Record<string, unknown>)(...args));
        result = { status: 'ok', value: encode(null) };
      } catch (error) {
        result = { status: 'error', error: userError(`${spec.cls.name}.constructor`, error) };
      }
    } catch (error) {
      result = { status: 'error', error: toErrorPayload(error) };
    }
    this.#runtime.send({ type: 'actor-created', actorId: spec.actorId, result });
  }

  /** Queue a method call. */
  call(call: ActorCallSpec, argValues: Array<[string, EncodedValue]>): void {
    this.#queue.push({ call, argValues });
    this.#pump();
  }

  #pump(): void {
    const limit = this.#spec?.options.maxConcurrency ?? 1;
    while (this.#running < limit) {
      const next = this.#queue.shift();
      if (!next) return;
      this.#running += 1;
      void this.#run(next).then((result) => {
        this.#running -= 1;
        this.#runtime.send({ type: 'task-done', taskId: next.call.callId, result });
        this.#pump();
      });
    }
  }

  async #run({ call, argValues }: Call): Promise<Result> {
    const instance = this.#instance;
    const method = instance?.[call.method];
    if (!instance || typeof method !== 'function') {
      return { status: 'error', error: { code: ERROR_CODES.TASK_ERROR, message: `${this.#spec?.cls.name ?? 'the actor'} has no method ${call.method}`,
        taskName: call.name, remoteName: 'TypeError', remoteStack: '' } };
    }
    let args: unknown[];
    try {
      args = decodeArgs(call.name, call.args, call.argRefs, argValues);
    } catch (error) {
      return { status: 'error', error: toErrorPayload(error) };
    }
    try {
      const spec = this.#spec;
      const job = spec === undefined ? {} : { jobId: spec.jobId, workingDir: this.#loader.dirOf(spec.jobId) };
      const value: unknown = await taskScope.run({ taskId: call.callId, name: call.name, actorId: call.actorId, ...job },
        () => (method as (...a: unknown[]) => unknown).apply(instance, args));
      // A generator object would encode as {} (it has no own fields): say what is not supported.
      if (isGeneratorObject(value)) {
        return { status: 'error', error: { code: ERROR_CODES.TASK_ERROR, taskName: call.name, remoteName: 'TypeError', remoteStack: '',
          message: `${call.name} is a generator method: actor methods cannot stream yet; return an array, or yield from a remote function* (or async function*) instead` } };
      }
      return encodeResult(call.name, value);
    } catch (error) {
      return { status: 'error', error: userError(call.name, error) };
    }
  }
}

/** Whether `value` is what calling a `function*` or `async function*` returns. */
function isGeneratorObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const tag = Object.prototype.toString.call(value);
  return tag === '[object Generator]' || tag === '[object AsyncGenerator]';
}
