/**
 * The actors inside one worker (see ActorHost). Calls name their actor, so one worker may host
 * many: actors that reserve no CPU share workers (DESIGN, "Actors at scale").
 */
import {
  ERROR_CODES, encode, taskScope, toErrorPayload, type ActorCallSpec, type ActorSpec, type ClientRuntime,
  type EncodedValue, type Result,
} from '@weft/protocol';
import { decodeArgs, encodeResult, settle, userError, whenSettled } from './executor.ts';
import type { ModuleLoader } from './module-loader.ts';
import type { ActorTimers } from './actor-timers.ts';
import { QuickCalls } from './quick-calls.ts';

type Call = { call: ActorCallSpec; argValues: Array<[string, EncodedValue]> };

/** One actor of this worker: its instance once constructed, and its calls. */
interface Hosted {
  readonly spec: ActorSpec;
  instance: Record<string, unknown> | undefined;
  readonly queue: Call[];
  running: number;
  /** Dropped (killed): its queued calls never start, and what it still returns is not reported. */
  dropped: boolean;
  /** Set while #pump runs for it (a call that ends at once pumps again from inside). */
  pumping: boolean;
  /** Its class, as QuickCalls keys its methods: the class's module and name, then the method. */
  readonly classKey: string;
}

/**
 * Hosts the actors of one worker (one, or many that reserve no CPU): constructs each, then runs
 * each one's method calls in the order they arrive, starting a call while fewer than its
 * `maxConcurrency` are running. A sync method runs to its end before anything else (JavaScript
 * is single-threaded), so only async methods overlap, within an actor and across the actors here.
 */
export class ActorHost {
  readonly #runtime: ClientRuntime;
  readonly #loader: ModuleLoader;
  readonly #actors = new Map<string, Hosted>();

  readonly #timers: ActorTimers | undefined;
  readonly #quick: QuickCalls;

  /** `timers`: the worker's timers by actor, cleared when an actor is dropped; `quick`: when results leave (see QuickCalls). */
  constructor(runtime: ClientRuntime, loader: ModuleLoader, timers?: ActorTimers, quick = new QuickCalls(() => {})) {
    this.#runtime = runtime;
    this.#loader = loader;
    this.#timers = timers;
    this.#quick = quick;
  }

  /** Construct an actor and report how it went; calls for it that come meanwhile queue. */
  async create(spec: ActorSpec, argValues: Array<[string, EncodedValue]>): Promise<void> {
    const hosted: Hosted = { spec, instance: undefined, queue: this.#actors.get(spec.actorId)?.queue ?? [], running: 0, dropped: false, pumping: false,
      classKey: `${spec.jobId}\0${spec.cls.module}\0${spec.cls.name}\0` };
    this.#actors.set(spec.actorId, hosted);
    let result: Result;
    try {
      const cls = await this.#loader.loadClass(spec.cls, spec.jobId);
      const args = decodeArgs(`${spec.cls.name} constructor`, spec.args, spec.argRefs, argValues);
      try {
        hosted.instance = taskScope.run({ taskId: spec.actorId, name: spec.cls.name.replace(/#\d+$/, ''), actorId: spec.actorId, jobId: spec.jobId, workingDir: this.#loader.dirOf(spec.jobId) },
          () => new (cls as unknown as new (...a: unknown[]) => Record<string, unknown>)(...args));
        result = { status: 'ok', value: encode(null) };
      } catch (error) {
        result = { status: 'error', error: userError(`${spec.cls.name}.constructor`, error) };
      }
    } catch (error) {
      result = { status: 'error', error: toErrorPayload(error) };
    }
    if (hosted.dropped) return;
    if (result.status === 'error') this.#actors.delete(spec.actorId);
    this.#runtime.send({ type: 'actor-created', actorId: spec.actorId, result });
    this.#pump(hosted);
  }

  /** Queue a method call of one of the actors here. */
  call(call: ActorCallSpec, argValues: Array<[string, EncodedValue]>): void {
    const hosted = this.#actors.get(call.actorId);
    if (!hosted) {
      this.#runtime.send({ type: 'task-done', taskId: call.callId, result: { status: 'error',
        error: { code: ERROR_CODES.ACTOR_DIED, message: `actor ${call.actorId} is not hosted in this worker (it was killed, or never created here)` } } });
      return;
    }
    hosted.queue.push({ call, argValues });
    this.#pump(hosted);
  }

  /** Drop an actor (killed): its queued calls and its timers go, its instance is let go; the other actors here go on. */
  drop(actorId: string): void {
    this.#timers?.clear(actorId);
    const hosted = this.#actors.get(actorId);
    if (!hosted) return;
    hosted.dropped = true;
    hosted.queue.length = 0;
    hosted.instance = undefined;
    this.#actors.delete(actorId);
  }

  /** How many actors this worker hosts. */
  get size(): number {
    return this.#actors.size;
  }

  #pump(hosted: Hosted): void {
    if (hosted.instance === undefined || hosted.pumping) return;
    const limit = hosted.spec.options.maxConcurrency ?? 1;
    // A call that ends at once ends inside this loop and pumps again: the loop takes the next.
    hosted.pumping = true;
    try {
      while (hosted.running < limit && !hosted.dropped) {
        const next = hosted.queue.shift();
        if (!next) return;
        this.#start(hosted, next);
      }
    } finally {
      hosted.pumping = false;
    }
  }

  #start(hosted: Hosted, next: Call): void {
    hosted.running += 1;
    const key = hosted.classKey + next.call.method;
    this.#quick.starting(key);
    const started = performance.now();
    const finish = (result: Result): void => {
      hosted.running -= 1;
      const runMs = performance.now() - started;
      this.#quick.ended(key, runMs);
      if (hosted.dropped) return;
      // runMs as tasks report it: results that carry it go back in runs (port-runs.ts).
      this.#runtime.send({ type: 'task-done', taskId: next.call.callId, result, runMs });
      this.#pump(hosted);
    };
    whenSettled(this.#run(hosted, next), finish);
  }

  /** A method call: its result, at once when the method returned a value, or a promise of it when it returned a thenable. */
  #run(hosted: Hosted, { call, argValues }: Call): Result | Promise<Result> {
    const instance = hosted.instance;
    const method = instance?.[call.method];
    if (!instance || typeof method !== 'function') {
      return { status: 'error', error: { code: ERROR_CODES.TASK_ERROR, message: `${hosted.spec.cls.name} has no method ${call.method}`,
        taskName: call.name, remoteName: 'TypeError', remoteStack: '' } };
    }
    let args: unknown[];
    try {
      args = decodeArgs(call.name, call.args, call.argRefs, argValues);
    } catch (error) {
      return { status: 'error', error: toErrorPayload(error) };
    }
    let value: unknown;
    try {
      const scope = { taskId: call.callId, name: call.name, actorId: call.actorId, jobId: hosted.spec.jobId, workingDir: this.#loader.dirOf(hosted.spec.jobId) };
      value = taskScope.run(scope, () => (method as (...a: unknown[]) => unknown).apply(instance, args));
    } catch (error) {
      return { status: 'error', error: userError(call.name, error) };
    }
    return settle(value, call.name, (resolved) => methodResult(call, resolved));
  }
}

/** What a method returned, encoded; a generator object fails the call, saying why. */
function methodResult(call: ActorCallSpec, value: unknown): Result {
  // A generator object would encode as {} (it has no own fields): say what is not supported.
  if (isGeneratorObject(value)) {
    return { status: 'error', error: { code: ERROR_CODES.TASK_ERROR, taskName: call.name, remoteName: 'TypeError', remoteStack: '',
      message: `${call.name} is a generator method: actor methods cannot stream yet; return an array, or yield from a remote function* (or async function*) instead` } };
  }
  return encodeResult(call.name, value);
}

/** Whether `value` is what calling a `function*` or `async function*` returns. */
function isGeneratorObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const tag = Object.prototype.toString.call(value);
  return tag === '[object Generator]' || tag === '[object AsyncGenerator]';
}
