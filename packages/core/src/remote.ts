/**
 * `remote(fn)` and `remote(options, fn)`: turn a function defined at a module's top level into
 * a remote function whose `.remote(...)` runs it as a task and returns an ObjectRef at once.
 */
import {
  encodeArgs, modulePathFor, taskScope, requireRuntime, callerModule, registerDefinition, type ObjectRef,
  type FunctionDescriptor, type ResourceSet, type TaskBatch, type TaskSpec, type RemoteArgs,
} from '@weft/protocol';
import { isActorClass, registerActorClass, type ActorClass, type ActorOptions } from './actor.ts';
import { CHUNKS, mapCalls, type ChunkResult, type ChunkSubmitter, type MapOptions } from './map.ts';
import { ObjectRefGenerator, isGeneratorFunction } from './object-ref-generator.ts';
export type { RemoteArgs } from '@weft/protocol';

/** Options of a remote function (and of one call through `.options(...)`). */
export interface TaskOptions {
  /** CPUs the task holds while it runs (fractions allowed). @default 1 */
  numCpus?: number;
  /** Custom resources the task holds while it runs, e.g. `{ gpu: 1 }`. @default {} */
  resources?: Record<string, number>;
  /** Times a task is retried after its worker died. @default 3 */
  maxRetries?: number;
  /** Retry exceptions thrown by the function too (up to `maxRetries`). @default false */
  retryExceptions?: boolean;
  /** A name for errors, logs and the timeline. @default the function's name */
  name?: string;
  /**
   * Calls of this function that may run at once in one worker, interleaved at their awaits (for
   * async functions that wait on I/O, such as downloads): they share the resources of the first.
   * An integer >= 1. @default 1
   */
  maxConcurrency?: number;
}


/** The calls a remote function offers (also through `.options(...)`): one task, or a map. */
export interface RemoteCalls<F extends (...args: never[]) => unknown> {
  /** Run the function as a task; returns at once with a ref to its result. */
  remote(...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>>;
  /** Run it on every item (its one argument), in parallel and in chunks; the values in input order. */
  map(items: Iterable<RemoteArgs<Parameters<F>>[0]> | AsyncIterable<RemoteArgs<Parameters<F>>[0]>, options?: MapOptions): Promise<Array<Awaited<ReturnType<F>>>>;
  /** As map, as an async iterable: each value in input order, as soon as it and those before it are ready. Leaving the loop cancels the rest. */
  imap(items: Iterable<RemoteArgs<Parameters<F>>[0]> | AsyncIterable<RemoteArgs<Parameters<F>>[0]>, options?: MapOptions): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined>;
  /** As imap, in completion order. */
  imapUnordered(items: Iterable<RemoteArgs<Parameters<F>>[0]> | AsyncIterable<RemoteArgs<Parameters<F>>[0]>, options?: MapOptions): AsyncGenerator<Awaited<ReturnType<F>>, void, undefined>;
  /** As map, each item being the list of the call's arguments. */
  starmap(argLists: Iterable<RemoteArgs<Parameters<F>>> | AsyncIterable<RemoteArgs<Parameters<F>>>, options?: MapOptions): Promise<Array<Awaited<ReturnType<F>>>>;
}

/**
 * A function that runs as a task. It is the original function with `remote`, `options` and the
 * map family added; calling it directly runs it here, in this thread.
 */
export interface RemoteFunction<F extends (...args: never[]) => unknown> extends RemoteCalls<F> {
  /** The same function with other options for the calls made through the result. */
  options(options: TaskOptions): RemoteCalls<F>;
  /** The underlying function, for calling it locally. */
  readonly fn: F;
  /** The function's name. */
  readonly remoteName: string;
}

/**
 * A generator function (`function*`, `async function*`) that runs as a task: `.remote()` returns
 * an ObjectRefGenerator, a ref per value it yields, each as soon as it is yielded (Ray's
 * streaming generators). Calling it directly runs it here, in this thread.
 */
export interface RemoteGeneratorFunction<F extends (...args: never[]) => unknown> {
  /** Run the generator as one task; returns at once with the generator of its values' refs. */
  remote(...args: RemoteArgs<Parameters<F>>): ObjectRefGenerator<YieldOf<F>>;
  /** The same generator with other options for the calls made through the result. */
  options(options: TaskOptions): { remote(...args: RemoteArgs<Parameters<F>>): ObjectRefGenerator<YieldOf<F>> };
  /** The underlying function, for calling it locally. */
  readonly fn: F;
  /** The function's name. */
  readonly remoteName: string;
}

/** The (awaited) type of the values the generator function `F` yields. */
export type YieldOf<F extends (...args: never[]) => unknown> =
  ReturnType<F> extends Generator<infer Y, unknown, never> | AsyncGenerator<infer Y, unknown, never> ? Awaited<Y> : never;

/**
 * What `remote(fn)` makes of a function of type `F`: a RemoteGeneratorFunction when it returns a
 * generator (not `any` or `never`, which pass for every type), else a RemoteFunction.
 */
export type RemoteOf<F extends (...args: never[]) => unknown> =
  0 extends 1 & ReturnType<F> ? RemoteFunction<F>
    : [ReturnType<F>] extends [never] ? RemoteFunction<F>
      : [ReturnType<F>] extends [Generator<unknown, unknown, never> | AsyncGenerator<unknown, unknown, never>] ? RemoteGeneratorFunction<F>
        : RemoteFunction<F>;

const DEFAULT_MAX_RETRIES = 3;

/** Check options and fill defaults; throws TypeError/RangeError naming the option. */
export function normalizeTaskOptions(options: TaskOptions, base?: Required<TaskOptions>): Required<TaskOptions> {
  if (options === null || typeof options !== 'object') throw new TypeError('task options must be an object');
  const merged = { ...(base ?? { numCpus: 1, resources: {}, maxRetries: DEFAULT_MAX_RETRIES, retryExceptions: false, name: '', maxConcurrency: 1 }), ...stripUndefined(options) };
  if (!Number.isFinite(merged.numCpus) || !(merged.numCpus >= 0)) throw new RangeError(`numCpus must be a finite number >= 0, got ${String(merged.numCpus)}`);
  if (!Number.isInteger(merged.maxRetries) || merged.maxRetries < -1) throw new RangeError(`maxRetries must be an integer >= 0 (or -1 for no limit), got ${String(merged.maxRetries)}`);
  if (typeof merged.retryExceptions !== 'boolean') throw new TypeError('retryExceptions must be a boolean');
  if (!Number.isSafeInteger(merged.maxConcurrency) || merged.maxConcurrency < 1) throw new RangeError(`maxConcurrency must be an integer >= 1, got ${String(merged.maxConcurrency)}`);
  if (typeof merged.resources !== 'object' || merged.resources === null) throw new TypeError('resources must be an object of numbers');
  for (const [key, amount] of Object.entries(merged.resources)) {
    if (!Number.isFinite(amount) || !(amount >= 0)) throw new RangeError(`resources.${key} must be a finite number >= 0, got ${String(amount)}`);
    if (key === 'CPU') throw new RangeError('set CPUs with numCpus, not resources.CPU');
  }
  return merged;
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The resource request of a task with these options. */
export function resourcesOf(options: Required<TaskOptions>): ResourceSet {
  return options.numCpus > 0 ? { ...options.resources, CPU: options.numCpus } : { ...options.resources };
}

/**
 * `fn` as a remote function, registered in `module` under its name (or `as`: `Class.method` for a
 * static method, which runs bound to its class).
 */
function makeRemoteFunction<F extends (...args: never[]) => unknown>(options: TaskOptions, fn: F, module: string, as?: string): F & RemoteFunction<F> {
  if (typeof fn !== 'function') throw new TypeError('remote() takes a function (or a class that extends Actor)');
  const name = as ?? (fn.name || 'anonymous');
  const key = registerDefinition(module, name, fn);
  const defaults = normalizeTaskOptions(options);
  const callName = defaults.name || name;
  const streaming = isGeneratorFunction(fn);
  // The descriptor depends only on the working directory: computed once per runtime, not per call.
  let descriptor: FunctionDescriptor | undefined;
  let descriptorDir: string | undefined;
  // One resources object per set of options, shared (frozen) by their tasks: a node packs a run of
  // them for a worker by comparing references (port-runs.ts).
  const resourcesFor = new WeakMap<Required<TaskOptions>, ResourceSet>();
  const submit = (opts: Required<TaskOptions>, args: unknown[], batch?: TaskBatch): ObjectRef<Awaited<ReturnType<F>>> => {
    const runtime = requireRuntime(`${callName}.remote()`);
    // Inside a task, the task's job and its folder (a worker runs tasks of many jobs).
    const scope = taskScope.getStore();
    const workingDir = scope?.workingDir ?? runtime.identity.workingDir;
    if (descriptorDir !== workingDir || !descriptor) {
      descriptorDir = workingDir;
      descriptor = { module: modulePathFor(module, descriptorDir), name: key };
    }
    const taskId = runtime.newId();
    let resources = resourcesFor.get(opts);
    if (!resources) resourcesFor.set(opts, (resources = Object.freeze(resourcesOf(opts))));
    const encoded = encodeArgs(args, callName);
    const task: TaskSpec = {
      taskId, jobId: scope?.jobId ?? runtime.identity.jobId, fn: descriptor, name: opts.name || name,
      args: encoded.args, argRefs: encoded.argRefs, resources, maxRetries: opts.maxRetries,
      retryExceptions: opts.retryExceptions,
    };
    if (opts.maxConcurrency > 1) task.maxConcurrency = opts.maxConcurrency;
    if (batch) task.batch = batch;
    // A task's children: a (recursive) cancel of it cancels them too.
    if (scope?.taskId !== undefined) task.parentTaskId = scope.taskId;
    // One task streams a generator's values; its own object ends the stream (object-ref-generator.ts).
    // (remote()'s signature types it, as RemoteGeneratorFunction's `.remote()`.)
    if (streaming && !batch) return new ObjectRefGenerator(runtime.submit<number>({ ...task, generator: true }), runtime) as unknown as ObjectRef<Awaited<ReturnType<F>>>;
    return runtime.submit(task);
  };
  const calls = (opts: Required<TaskOptions>): RemoteCalls<F> => {
    const chunks: ChunkSubmitter = {
      name: opts.name || name,
      maxConcurrency: opts.maxConcurrency,
      submitChunk: (args, sizes, offset) => submit(opts, args, sizes ? { offset, sizes } : { offset }) as unknown as ObjectRef<ChunkResult>,
    };
    return { remote: (...args: unknown[]) => submit(opts, args), ...mapCalls<F>(chunks), [CHUNKS]: chunks } as RemoteCalls<F>;
  };
  // The remote API is attached to the function itself, so that inside
  // `remote(function fib(n) { fib.remote(n - 1) })` the function's own name, which shadows the
  // outer const, still has `.remote`.
  const remoteFn = fn as F & RemoteFunction<F>;
  const own = calls(defaults);
  Object.defineProperties(remoteFn, {
    fn: { value: fn },
    remoteName: { value: name },
    remote: { value: own.remote },
    map: { value: own.map },
    imap: { value: own.imap },
    imapUnordered: { value: own.imapUnordered },
    starmap: { value: own.starmap },
    [CHUNKS]: { value: (own as unknown as { [CHUNKS]: ChunkSubmitter })[CHUNKS] },
    options: { value: (more: TaskOptions) => calls(normalizeTaskOptions(more, defaults)) },
  });
  return remoteFn;
}

/**
 * What `@remote(options)` returns: a class decorator that records an actor class's module and
 * default options, or a decorator of a static method that makes it a remote function (found by
 * workers as `Class.method` in its module). Both decorator flavours are taken: TC39 (`(value,
 * context)`, what tsx and TypeScript 5 emit) and legacy (`(target, key, descriptor)`).
 */
export type ActorDecorator = {
  <C extends ActorClass>(cls: C, context?: unknown): C;
  // A method decorator returns nothing (TC39) or a descriptor (legacy): typed loosely, as TypeScript
  // checks it against the decorated method's own type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (value: unknown, context: unknown, descriptor?: PropertyDescriptor): any;
};

/**
 * Make a remote function. Define it at a module's top level: workers import that module. A
 * generator function (`function*`, `async function*`) streams: see RemoteGeneratorFunction.
 */
export function remote<F extends (...args: never[]) => unknown>(fn: F): F & RemoteOf<F>;
/** Make a remote function with default options. */
export function remote<F extends (...args: never[]) => unknown>(options: TaskOptions, fn: F): F & RemoteOf<F>;
/**
 * As a decorator: `@remote({ maxRestarts: 1 })` on a class that extends Actor sets its default
 * options; `@remote({ numCpus: 1 })` on a static method makes it a remote function
 * (`Pricing.price.remote(p)`, `Pricing.price.map(grid)`).
 */
export function remote(options?: ActorOptions & TaskOptions): ActorDecorator;
export function remote(a?: unknown, b?: unknown): unknown {
  const module = callerModule(remote) ?? '<unknown module>';
  if (isActorClass(a)) return decorateActor(a, module, {});
  if (typeof a === 'function') return makeRemoteFunction({}, a as (...args: never[]) => unknown, module);
  if (isActorClass(b)) return decorateActor(b, module, a as ActorOptions);
  if (typeof b === 'function') return makeRemoteFunction(a as TaskOptions, b as (...args: never[]) => unknown, module);
  if (b === undefined && (a === undefined || (typeof a === 'object' && a !== null))) {
    const options = (a ?? {}) as ActorOptions & TaskOptions;
    return ((target: unknown, context?: unknown, descriptor?: PropertyDescriptor): unknown => {
      if (descriptor !== undefined) return decorateLegacyMethod(target, context, descriptor, module, options);
      const kind = (context as { kind?: unknown } | undefined)?.kind;
      if (kind === 'method') return decorateMethod(target, context as ClassMethodDecoratorContext, module, options);
      if (!isActorClass(target)) throw new TypeError('@remote(...) decorates classes that extend Actor, or their static methods; wrap functions with remote(fn) instead');
      return decorateActor(target, module, options);
    }) as ActorDecorator;
  }
  throw new TypeError('remote() takes a function, options and a function, or (as a decorator) actor options');
}

/** A TC39 decorator of a static method: once the class exists, the method becomes a remote function bound to it. */
function decorateMethod(method: unknown, context: ClassMethodDecoratorContext, module: string, options: TaskOptions): void {
  if (!context.static) throw new TypeError(`@remote(...) decorates static methods only: ${String(context.name)} is an instance method (use an Actor for state)`);
  const name = String(context.name);
  context.addInitializer(function (this: unknown) {
    const cls = this as Record<string, unknown> & { name: string };
    // esbuild (tsx) names a decorated class _Name while it is being defined (and Name after), and
    // a process under another transpiler (vitest's, legacy decorators) knows it as Name: register
    // Name.method, and the name seen here too, so that either finds it.
    const className = cls.name.replace(/^_/, '');
    const bound = (method as AnyFunction).bind(cls);
    cls[name] = withSource(makeRemoteFunction(options, bound, module, `${className}.${name}`), method);
    if (className !== cls.name) registerDefinition(module, `${cls.name}.${name}`, bound);
  });
}

/** A legacy decorator of a static method (`target` is the class): its value becomes a remote function bound to it. */
function decorateLegacyMethod(target: unknown, key: unknown, descriptor: PropertyDescriptor, module: string, options: TaskOptions): PropertyDescriptor {
  if (typeof target !== 'function') throw new TypeError(`@remote(...) decorates static methods only: ${String(key)} is an instance method (use an Actor for state)`);
  const method = descriptor.value as AnyFunction;
  return { ...descriptor, value: withSource(makeRemoteFunction(options, method.bind(target), module, `${target.name}.${String(key)}`), method) };
}

/**
 * A bound method's `toString()` is `[native code]`: keep the method's own source text where
 * Memory looks for it (memory.ts SOURCE_TEXT), so a cached static method keys on its code.
 */
function withSource<R extends object>(remoteFn: R, method: unknown): R {
  Object.defineProperty(remoteFn, Symbol.for('weft.remote.source'), { value: String(method) });
  return remoteFn;
}

type AnyFunction = (...args: never[]) => unknown;

/**
 * A static method decorated with `@remote(...)`, typed as the remote function it is: TypeScript
 * does not let a decorator change a member's type, so `remoteOf(Pricing.price).map(grid)` is the
 * typed way to write `Pricing.price.map(grid)`. Throws TypeError for a function that is not remote.
 */
export function remoteOf<F extends (...args: never[]) => unknown>(fn: F): F & RemoteFunction<F> {
  if (typeof fn !== 'function' || typeof (fn as { remote?: unknown }).remote !== 'function') {
    throw new TypeError('remoteOf() takes a remote function: a static method decorated with @remote(...), or what remote(fn) returned');
  }
  return fn as F & RemoteFunction<F>;
}

function decorateActor<C extends ActorClass>(cls: C, module: string, options: ActorOptions): C {
  registerActorClass(cls, module, registerDefinition(module, cls.name, cls), options);
  return cls;
}
