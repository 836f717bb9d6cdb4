/**
 * Actors: stateful remote objects. A class that extends `Actor` gets a typed static `remote(...)`
 * that starts an instance in a worker (shared with other actors unless it holds CPUs or is
 * `isolated`) and returns an `ActorHandle` at once; each
 * method of the handle has `.remote(...)`, returning an ObjectRef of the method's result.
 *
 * ```ts
 * export class Counter extends Actor {
 *   n = 0;
 *   inc(by = 1) { return (this.n += by); }
 * }
 * const c = Counter.remote();            // ActorHandle<Counter>
 * await get(c.inc.remote(2));            // 2
 * ```
 *
 * Workers find the class by its module and name: export it from the module that defines it (or
 * decorate it with `@remote()`).
 */
import {
  SystemError, ACTOR_BRAND, isActorClass as isBranded, taskScope, requireRuntime, encodeArgs, modulePathFor,
  ActorHandleBase, setHandleFactory, type RemoteArgs, type ObjectRef, type ActorOptionsSpec, type ActorSpec,
  type FunctionDescriptor,
} from '@weft/protocol';
import { classModule } from './runtime/class-location.ts';

export { ActorHandleBase };

/** Options of an actor. */
export interface ActorOptions {
  /** A name unique in the cluster while the actor lives, for `getActor(name)`. @default unnamed */
  name?: string;
  /** Times the actor is restarted (constructor re-run) after its worker dies; -1: no limit. @default 0 */
  maxRestarts?: number;
  /** Times a method call in flight when the actor died is retried after a restart; -1: no limit. @default 0 */
  maxTaskRetries?: number;
  /** Calls that may run at once: async methods overlap up to this many. @default 1, or 1000 when the class has async methods (as in Ray) */
  maxConcurrency?: number;
  /** CPUs held for the actor's whole life. With 0, one free CPU is still needed to place it. @default 0 */
  numCpus?: number;
  /** Custom resources held for the actor's whole life. @default {} */
  resources?: Record<string, number>;
  /**
   * A worker thread of its own, as an actor with `numCpus > 0` always gets. Without it, actors that
   * reserve no CPU share a few workers per node (thousands fit), and one that blocks its thread
   * (a long sync method) delays its neighbours. @default false
   */
  isolated?: boolean;
  /** 'detached': the actor outlives the driver that created it (give it a name to reach it). @default tied to its driver */
  lifetime?: 'detached';
}

/** A class that extends Actor. */
export type ActorClass<T extends Actor = Actor> = new (...args: never[]) => T;

/** The names of `T`'s methods that can be called remotely. */
export type ActorMethodNames<T> = {
  [K in keyof T]: K extends keyof Actor ? never : T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T];

/** One method of an actor handle. */
export interface ActorMethod<A extends unknown[], R> {
  /** Call the method on the actor; returns at once with a ref to its result. */
  remote(...args: RemoteArgs<A>): ObjectRef<R>;
}

/** A handle to an actor: pass it anywhere; calls through every copy reach the same actor. */
export type ActorHandle<T> = ActorHandleBase & {
  readonly [K in ActorMethodNames<T>]: T[K] extends (...args: infer A) => infer R ? ActorMethod<A, Awaited<R>> : never;
};

const ACTOR_DEFAULTS = Symbol.for('weft.actor-defaults');

/** Whether `value` is a class that extends Actor (from any copy of @weft/core). */
export function isActorClass(value: unknown): value is ActorClass {
  return isBranded(value);
}
const MAX_ASYNC_CONCURRENCY = 1000;

// Keys a handle answers itself; everything else is a method of the actor. `then` must not look
// like a method, or `await getActor(...)` would treat the handle as a promise.
const OWN_KEYS = new Set<PropertyKey>(['then', 'toJSON', 'constructor', 'actorId', 'className', 'toString']);

/** @internal Make the handle of an actor. */
export function makeHandle<T>(actorId: string, className: string): ActorHandle<T> {
  const base = new ActorHandleBase(actorId, className);
  const methods = new Map<string, ActorMethod<unknown[], unknown>>();
  return new Proxy(base, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || OWN_KEYS.has(key)) return Reflect.get(target, key, receiver);
      let method = methods.get(key);
      if (!method) {
        const name = `${className}.${key}`;
        method = { remote: (...args: unknown[]) => callMethod(actorId, key, name, args) };
        methods.set(key, method);
      }
      return method;
    },
  }) as ActorHandle<T>;
}

setHandleFactory(makeHandle);

function callMethod(actorId: string, method: string, name: string, args: unknown[]): ObjectRef<unknown> {
  const runtime = requireRuntime(`${name}.remote()`);
  const callId = runtime.newId();
  const encoded = encodeArgs(args, name);
  return runtime.callActor({ callId, actorId, method, name, args: encoded.args, argRefs: encoded.argRefs });
}

/** Check actor options; throws TypeError/RangeError naming the option. */
export function normalizeActorOptions(options: ActorOptions, cls: ActorClass): ActorOptionsSpec {
  if (options === null || typeof options !== 'object') throw new TypeError('actor options must be an object');
  const integer = (value: unknown, option: string, min: number): number => {
    if (!Number.isInteger(value) || (value as number) < min) throw new RangeError(`${option} must be an integer >= ${min}${min < 0 ? ' (-1: no limit)' : ''}, got ${String(value)}`);
    return value as number;
  };
  const maxRestarts = integer(options.maxRestarts ?? 0, 'maxRestarts', -1);
  const maxTaskRetries = integer(options.maxTaskRetries ?? 0, 'maxTaskRetries', -1);
  const maxConcurrency = integer(options.maxConcurrency ?? (hasAsyncMethods(cls) ? MAX_ASYNC_CONCURRENCY : 1), 'maxConcurrency', 1);
  const numCpus = options.numCpus ?? 0;
  if (!Number.isFinite(numCpus) || !(numCpus >= 0)) throw new RangeError(`numCpus must be a finite number >= 0, got ${String(numCpus)}`);
  const custom = options.resources ?? {};
  for (const [key, amount] of Object.entries(custom)) {
    if (!Number.isFinite(amount) || !(amount >= 0)) throw new RangeError(`resources.${key} must be a finite number >= 0, got ${String(amount)}`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new TypeError('name must be a non-empty string');
  if (options.isolated !== undefined && typeof options.isolated !== 'boolean') throw new TypeError(`isolated must be a boolean, got ${String(options.isolated)}`);
  if (options.lifetime !== undefined && options.lifetime !== 'detached') throw new RangeError(`lifetime must be 'detached' or absent, got ${String(options.lifetime)}`);
  const resources = numCpus > 0 ? { ...custom, CPU: numCpus } : { ...custom };
  // As in Ray: an actor needs a CPU to be placed, and holds only what it asked for.
  const placement = { ...resources, CPU: Math.max(numCpus, 1) };
  return { ...(options.name !== undefined ? { name: options.name } : {}), maxRestarts, maxTaskRetries, maxConcurrency, resources, placement,
    ...(options.lifetime === 'detached' ? { detached: true } : {}), ...(options.isolated === true ? { isolated: true } : {}) };
}

function hasAsyncMethods(cls: ActorClass): boolean {
  for (let proto = cls.prototype as object | null; proto && !Object.prototype.hasOwnProperty.call(proto, ACTOR_BRAND); proto = Object.getPrototypeOf(proto) as object | null) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      if (typeof descriptor?.value === 'function' && descriptor.value.constructor?.name === 'AsyncFunction') return true;
    }
  }
  return false;
}

/** Where workers find an actor class: by module and name. */
function describeClass(cls: ActorClass, workingDir: string): FunctionDescriptor {
  const registered = (cls as { [ACTOR_DEFAULTS]?: { module: string; key: string } })[ACTOR_DEFAULTS];
  if (registered) return { module: modulePathFor(registered.module, workingDir), name: registered.key };
  const file = classModule(cls);
  if (!file) throw new SystemError(`cannot tell which module defines actor class ${cls.name}: export it from its module, or decorate it with @remote()`);
  return { module: modulePathFor(file, workingDir), name: cls.name };
}

function createActor<T extends Actor>(cls: ActorClass<T>, options: ActorOptions, args: unknown[]): ActorHandle<T> {
  if (!cls.name) throw new TypeError('actor classes must have a name');
  const runtime = requireRuntime(`${cls.name}.remote()`);
  const defaults = (cls as { [ACTOR_DEFAULTS]?: { options: ActorOptions } })[ACTOR_DEFAULTS]?.options ?? {};
  const scope = taskScope.getStore();
  const spec: ActorSpec = {
    actorId: `actor-${runtime.newId()}`, jobId: scope?.jobId ?? runtime.identity.jobId,
    cls: describeClass(cls, scope?.workingDir ?? runtime.identity.workingDir),
    ...encodeArgs(args, cls.name), options: normalizeActorOptions({ ...defaults, ...options }, cls),
  };
  const name = spec.options.name;
  if (name !== undefined && runtime.claimActorName && !runtime.claimActorName(name, spec.actorId)) {
    throw new RangeError(`name '${name}' is taken by a live actor: actor names are unique while their actor lives; use getActor('${name}') to reach it, or kill it first`);
  }
  runtime.createActor(spec);
  return makeHandle<T>(spec.actorId, cls.name);
}

/** Base class of actors. Extend it; call `YourClass.remote(...)` to start one. */
export abstract class Actor {
  /** Start an actor of this class in a worker of its own; returns its handle at once. */
  static remote<C extends ActorClass>(this: C, ...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>> {
    return createActor(this as unknown as ActorClass<InstanceType<C>>, {}, args);
  }

  /** This class with other options for the actors started through the result. */
  static options<C extends ActorClass>(this: C, options: ActorOptions): { remote(...args: RemoteArgs<ConstructorParameters<C>>): ActorHandle<InstanceType<C>> } {
    const cls = this as unknown as ActorClass<InstanceType<C>>;
    normalizeActorOptions(options, cls); // fail here, at the call that has the bad option
    return { remote: (...args) => createActor(cls, options, args) };
  }
}

Object.defineProperty(Actor.prototype, ACTOR_BRAND, { value: true });

/** @internal Record a class's module and default options (the `@remote(...)` decorator). */
export function registerActorClass(cls: ActorClass, module: string, key: string, options: ActorOptions): void {
  normalizeActorOptions(options, cls);
  Object.defineProperty(cls, ACTOR_DEFAULTS, { value: { module, key, options }, enumerable: false });
}
