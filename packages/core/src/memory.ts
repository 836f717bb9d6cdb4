/**
 * `Memory`: a result cache in a folder on the driver's machine (joblib's `Memory`).
 *
 * ```ts
 * const memory = new Memory('.weft-cache');
 * export const backtest = memory.cache(remote(function backtest(p: Params) { … }));
 * backtest.remote(p);  // a ref to the cached value at once, when this code ran on these arguments before
 * memory.clear();
 * ```
 *
 * - Key: a sha256 of the function's module (relative to the working directory), registry key
 *   and source text, and of its arguments encoded canonically with weft's codec (memory-key.ts
 *   says which arguments count as the same). Changed code gives new entries; the functions it
 *   calls and the module-level values it reads are not part of the key (as in joblib).
 * - ObjectRefs and actor handles as arguments (at the top level or nested) are refused with a
 *   TypeError: `.remote()` must return a ref at once, and a ref's value (or an actor's state) is
 *   not known then without waiting for it, nor the same from one run to the next; pass the value.
 * - Entries are frames of weft's codec (never code) in one file per call, written atomically in
 *   the background once the task is done; errors are not cached, nor values holding refs or
 *   actor handles. A damaged entry is ignored with a warning, and the call runs again.
 * - A hit puts the entry's bytes, as read from the file (after checking and decoding them once),
 *   into the object store: no task runs and nothing is encoded again, and the ref works as any
 *   other (as a task's argument too). Typed arrays in the value are views of the file's buffer.
 * - In cluster mode the cache is still the driver's folder: hits are put from the driver, and
 *   results come back to the driver to be saved. Inside a task (a worker), a cached function's
 *   calls bypass the cache and run as plain tasks: the cache belongs to the driver's machine,
 *   and a worker may be on another one. `new Memory(dir)` in a worker (which imports the
 *   driver's module) touches no disk.
 * - Two calls with the same arguments made before the first is done both run (no dedup of calls
 *   in flight).
 */
import path from 'node:path';
import {
  SerializationError, modulePathFor, findDefinition, currentRuntime, workerState, type ObjectRef, type ClientRuntime,
} from '@weft/protocol';
import type { RemoteArgs, RemoteCalls, RemoteFunction, TaskOptions } from './remote.ts';
import { callDigest, functionDigest, UncacheableArgumentError } from './memory-key.ts';
import { EntryStore, type EntryAddress, type MemoryStats } from './memory-store.ts';
import { ENTRY_SUFFIX } from './memory-entry.ts';
import { CHUNKS, mapCalls, type ChunkSubmitter } from './map.ts';

type AnyFunction = (...args: never[]) => unknown;

export type { MemoryStats } from './memory-store.ts';

/** Marks the functions `memory.cache` returns; its value is the function's cache binding. */
export const CACHED_FUNCTION: unique symbol = Symbol.for('weft.memory.cached-function');

/** A remote function whose results are cached: the same API as the function it wraps. */
export interface CachedFunction<F extends AnyFunction> extends RemoteFunction<F> {
  /** The cache its results go to. */
  readonly memory: Memory;
  /** @internal The cache binding (for map.ts, through the functions below). */
  readonly [CACHED_FUNCTION]: CacheBinding;
}

/** A result cache in a folder on the driver's machine. */
export class Memory {
  /** The cache's folder (absolute). */
  readonly location: string;
  readonly #store: EntryStore;

  /** @param location the cache's folder, relative to the current directory; made if missing. */
  constructor(location: string) {
    if (typeof location !== 'string' || location === '') throw new TypeError('new Memory(location) takes the path of a folder, e.g. new Memory(\'.weft-cache\')');
    this.location = path.resolve(location);
    this.#store = new EntryStore(this.location, workerState() === undefined);
  }

  /**
   * The same remote function, with its results cached in this folder: `remote`, `options(...)`,
   * `fn`, `remoteName` and the map family, as the function has them.
   */
  cache<F extends AnyFunction>(f: RemoteFunction<F>): CachedFunction<F> {
    const target = isCachedFunction(f) ? f[CACHED_FUNCTION].target as RemoteFunction<F> : f;
    const definition = typeof target?.remote === 'function' && typeof target.fn === 'function' ? findDefinition(target) : undefined;
    if (!definition) throw new TypeError('memory.cache() takes a remote function: memory.cache(remote(function name(...) { ... })) at a module\'s top level');
    if (/^(Async)?GeneratorFunction$/.test(target.fn.constructor.name)) {
      throw new TypeError(`memory.cache(${target.remoteName}): a generator function streams refs as it runs, which a cache cannot replay; cache a function that returns its values`);
    }
    const binding = new CacheBinding(this.#store, target, definition.module, definition.key, sourceOf(target));
    const cached = {} as CachedFunction<F>;
    const calls = (options: TaskOptions | undefined): Record<keyof RemoteCalls<F>, unknown> => {
      const direct = options === undefined ? target : target.options(options);
      const map = (): CachedMapMethods => mapMethods(cached as unknown as CachedFunction<AnyFunction>, options);
      return {
        remote: (...args: unknown[]) => binding.call((...a) => direct.remote(...(a as RemoteArgs<Parameters<F>>)) as ObjectRef, args),
        map: (items: never, mapOptions?: MapOptionsOf) => map().map(items, mapOptions),
        imap: (items: never, mapOptions?: MapOptionsOf) => map().imap(items, mapOptions),
        imapUnordered: (items: never, mapOptions?: MapOptionsOf) => map().imapUnordered(items, mapOptions),
        starmap: (argLists: never, mapOptions?: MapOptionsOf) => map().starmap(argLists, mapOptions),
      };
    };
    const own = calls(undefined);
    Object.defineProperties(cached, {
      [CACHED_FUNCTION]: { value: binding },
      memory: { value: this },
      fn: { value: target.fn },
      remoteName: { value: target.remoteName },
      ...Object.fromEntries(Object.entries(own).map(([name, value]) => [name, { value }])),
      options: { value: (options: TaskOptions) => calls(options) },
    });
    return cached;
  }

  /** Remove every entry of this folder (only the files the cache made). Writes in flight are dropped. */
  clear(): void {
    this.#store.clear();
  }

  /** Calls served from the cache and calls that ran, since this Memory was made (a copy). */
  get stats(): MemoryStats {
    return { ...this.#store.stats };
  }

  /** Resolves when the results computed so far are written (before `process.exit`, or in tests). */
  flush(): Promise<void> {
    return this.#store.flush();
  }
}

/** @internal How one cached function finds its entries. */
export class CacheBinding {
  readonly target: RemoteFunction<AnyFunction>;
  readonly store: EntryStore;
  readonly #module: string;
  readonly #key: string;
  readonly #source: string;
  /** The function's digest and folder, for the working directory they were made for. */
  #identity: { workingDir: string; digest: string; folder: string } | undefined;

  constructor(store: EntryStore, target: RemoteFunction<AnyFunction>, module: string, key: string, source: string) {
    this.store = store;
    this.target = target;
    this.#module = module;
    this.#key = key;
    this.#source = source;
  }

  /** The entry of a call; throws UncacheableArgumentError (a TypeError) for refs and handles. */
  address(args: readonly unknown[], workingDir: string): EntryAddress {
    let identity = this.#identity;
    if (identity?.workingDir !== workingDir) {
      const modulePath = modulePathFor(this.#module, workingDir).split(path.sep).join('/');
      const digest = functionDigest(modulePath, this.#key, this.#source);
      const folder = path.join(this.store.location, `${safeName(this.#key)}-${digest.slice(0, 16)}`);
      identity = this.#identity = { workingDir, digest, folder };
    }
    const key = callDigest(identity.digest, args);
    return { file: path.join(identity.folder, `${key}${ENTRY_SUFFIX}`), key };
  }

  /** `.remote()` of the cached function: the cached value's ref, or `submit`'s (saved when done). */
  call(submit: (...args: unknown[]) => ObjectRef, args: unknown[]): ObjectRef {
    const runtime = currentRuntime();
    // Inside a task the cache is bypassed (see the module comment); before init(), submit says so.
    if (workerState() || !runtime) return submit(...args);
    let address: EntryAddress;
    try {
      address = this.address(args, runtime.identity.workingDir);
    } catch (error) {
      if (error instanceof UncacheableArgumentError) throw this.refused(error);
      // What cannot be sent at all: the submit's own error says so, as without the cache.
      if (error instanceof SerializationError) return submit(...args);
      throw error;
    }
    const hit = this.store.load(address);
    if (hit) return putFrame(runtime, hit.frame);
    const ref = submit(...args);
    this.store.saveWhenDone(runtime, ref, address, this.target.remoteName);
    return ref;
  }

  /** The TypeError a call with a ref or an actor handle among its arguments gets. */
  refused(error: UncacheableArgumentError): TypeError {
    const name = this.target.remoteName;
    return new TypeError(`${name}.remote() (cached): ${error.message}, and a cached function keys its calls by the values of `
      + `their arguments, which a ${error.found === 'an ObjectRef' ? 'ref does not carry' : 'handle (an actor\'s state) does not show'}: `
      + `pass the value itself (await get(ref) first), or call the uncached function`);
  }
}

/** A ref to a frame put as it is (the hit path: no task, no second encoding). */
function putFrame(runtime: ClientRuntime, frame: Uint8Array): ObjectRef {
  const id = runtime.newId();
  const ref = runtime.newRef(id);
  runtime.send({ type: 'put-object', objectId: id, value: { data: frame } });
  return ref;
}

/**
 * Where a remote function may keep the source text of what it runs, when `fn.toString()` does
 * not show it (a bound function, as a decorated static method is). Optional.
 */
export const SOURCE_TEXT: unique symbol = Symbol.for('weft.remote.source');

/** The source text that keys a function: its code, so that changed code means new entries. */
function sourceOf(f: RemoteFunction<AnyFunction>): string {
  const own = (f as { [SOURCE_TEXT]?: unknown })[SOURCE_TEXT];
  if (typeof own === 'string') return own;
  const text = f.fn.toString();
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    throw new TypeError(`memory.cache(${f.remoteName}): its source text cannot be read (a bound or native function), so the cache could not tell when its code changes; cache a function defined with remote(function ...)`);
  }
  return text;
}

/** A registry key as a folder name: `Pricing.price#2` → `Pricing.price_2`. */
function safeName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.$-]/g, '_').slice(0, 64) || 'anonymous';
}

// ---------------------------------------------------------------------------------------------
// The seam with map.ts (f.map, imap, imapUnordered, starmap over a cached function).
//
// A cached function's map family is map.ts's `mapCalls(chunks, cache)` over the chunk submitter
// of the function it wraps (`CHUNKS`), with `cache.lookup = cachedValue(f, args)` (per item,
// before it goes into a chunk: an item found is not submitted) and `cache.save = store(f, args,
// value)` (per item that ran, in the background). `isCachedFunction` recognises a cached
// function (by the CACHED_FUNCTION property), `uncachedFunction` gives the one it wraps.
// ---------------------------------------------------------------------------------------------

/** What {@link cachedValue} found for one call. */
export type CacheLookup<T> = { hit: true; value: T } | { hit: false };

/** @internal Whether `f` is a function `memory.cache` returned (map.ts: look items up before submitting them). */
export function isCachedFunction(f: unknown): f is CachedFunction<AnyFunction> {
  return (typeof f === 'object' || typeof f === 'function') && f !== null && (f as { [CACHED_FUNCTION]?: unknown })[CACHED_FUNCTION] instanceof CacheBinding;
}

/** @internal The remote function a cached function wraps: map.ts submits the misses through it. */
export function uncachedFunction<F extends AnyFunction>(f: CachedFunction<F>): RemoteFunction<F> {
  return f[CACHED_FUNCTION].target as RemoteFunction<F>;
}

/**
 * @internal For map.ts, per item: the cached value of the call `f(...args)`, read without
 * blocking the event loop (typed arrays in it are views of the file's buffer). A miss in a
 * worker (the cache is bypassed there), for arguments the codec cannot send (the submit will
 * say why), and for an entry that is damaged (warned). Throws the TypeError of `.remote()` when
 * an argument is an ObjectRef or an actor handle.
 */
export async function cachedValue<T = unknown>(f: CachedFunction<AnyFunction>, args: readonly unknown[]): Promise<CacheLookup<T>> {
  const address = addressFor(f, args);
  if (!address) return { hit: false };
  const hit = await f[CACHED_FUNCTION].store.loadAsync(address);
  return hit ? { hit: true, value: hit.value as T } : { hit: false };
}

/**
 * @internal For map.ts, per item that ran: save `value` as the result of `f(...args)`.
 * Resolves when it is written; never rejects (a failed write is warned). Call it for values
 * only, not for errors. Does nothing in a worker.
 */
export async function store(f: CachedFunction<AnyFunction>, args: readonly unknown[], value: unknown): Promise<void> {
  const address = addressFor(f, args);
  if (address) await f[CACHED_FUNCTION].store.save(address, value, f.remoteName);
}

function addressFor(f: CachedFunction<AnyFunction>, args: readonly unknown[]): EntryAddress | undefined {
  if (workerState()) return undefined;
  const binding = f[CACHED_FUNCTION];
  try {
    return binding.address(args, currentRuntime()?.identity.workingDir ?? process.cwd());
  } catch (error) {
    if (error instanceof UncacheableArgumentError) throw binding.refused(error);
    if (error instanceof SerializationError) return undefined;
    throw error;
  }
}

/** The map family of a cached function (of its `options(...)` when those are given). */
export type CachedMapMethods = Pick<RemoteCalls<AnyFunction>, 'map' | 'imap' | 'imapUnordered' | 'starmap'>;
type MapOptionsOf = Parameters<CachedMapMethods['map']>[1];

function mapMethods(f: CachedFunction<AnyFunction>, options: TaskOptions | undefined): CachedMapMethods {
  const target = f[CACHED_FUNCTION].target;
  const calls = (options === undefined ? target : target.options(options)) as unknown as { [CHUNKS]?: ChunkSubmitter };
  const chunks = calls[CHUNKS];
  if (!chunks) return options === undefined ? target : target.options(options);
  // Items found in the cache are not submitted; those that ran are saved (in the background).
  return mapCalls(chunks, {
    lookup: (args) => cachedValue(f, args),
    save: (args, value) => void store(f, args, value),
  });
}
