/**
 * The folder behind a `Memory`: loads entries (checked, then decoded once, so that a damaged
 * one is never handed on), saves results in the background, clears, and waits for writes.
 * What goes wrong with an entry (damaged, unreadable, unwritable) is logged as a warning and
 * treated as a miss; it is never thrown at the caller.
 */
import { mkdirSync, readdirSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  decode, encode, ActorHandleBase, ObjectRef, logger, CACHE_DIR_SIGNATURE, CACHE_DIR_TAG, type Logger,
  type ClientRuntime,
} from '@weft/protocol';
import { ENTRY_NAME, readEntry, readEntrySync, writeEntry, type EntryRead } from './memory-entry.ts';

/** Where one call's result lives: the entry's file and the call's key (hex). */
export interface EntryAddress {
  file: string;
  key: string;
}

/** A loaded entry: its frame (a view of the file's bytes) and the value decoded from it. */
export interface LoadedEntry {
  frame: Uint8Array;
  value: unknown;
}

/** Names of the per-function folders (`<name>-<16 hex digits>`): clear() removes only these. */
export const FUNCTION_FOLDER = /^[A-Za-z0-9_.$-]{1,64}-[0-9a-f]{16}$/;

const CACHE_DIR_TAG_TEXT = `${CACHE_DIR_SIGNATURE}
# This file is a cache directory tag created by weft's Memory (a result cache).
# For information about cache directory tags, see https://bford.info/cachedir/
`;

const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => ArrayBufferView;

let log: Logger | undefined;
/** Log a warning of the cache (one logger, made at the first). */
export const warn = (fields: Record<string, unknown>, message: string): void => {
  log ??= logger('memory');
  log.warn(fields, message);
};

/** What a Memory has found so far (since it was made). */
export interface MemoryStats {
  /** Calls served from the cache. */
  hits: number;
  /** Calls looked up and not found (or found damaged): they ran. */
  misses: number;
}

export class EntryStore {
  readonly location: string;
  readonly stats: MemoryStats = { hits: 0, misses: 0 };
  /** Bumped by clear(): a write begun before it is dropped. */
  #generation = 0;
  readonly #writes = new Set<Promise<void>>();

  /** @param create make the folder now (not in a worker, which never uses it) */
  constructor(location: string, create: boolean) {
    this.location = location;
    if (!create) return;
    const made = mkdirSync(location, { recursive: true }) !== undefined;
    // A folder of the cache's own (new, or empty) is tagged as a cache: backup tools and
    // `tar --exclude-caches` skip it, and so does the packing of a job's working directory.
    // Not a folder that holds other things (new Memory('.')): the tag would hide all of them.
    if (made || readdirSync(location).length === 0) writeFileSync(path.join(location, CACHE_DIR_TAG), CACHE_DIR_TAG_TEXT);
  }

  /** The entry at `address`, read now; undefined when there is none or it cannot be used. */
  load(address: EntryAddress): LoadedEntry | undefined {
    return this.#decoded(address, readEntrySync(address.file, address.key));
  }

  /** As load(), reading without blocking the event loop. */
  async loadAsync(address: EntryAddress): Promise<LoadedEntry | undefined> {
    return this.#decoded(address, await readEntry(address.file, address.key));
  }

  #decoded(address: EntryAddress, read: EntryRead): LoadedEntry | undefined {
    const loaded = this.#decode(address, read);
    if (loaded) this.stats.hits += 1;
    else this.stats.misses += 1;
    return loaded;
  }

  #decode(address: EntryAddress, read: EntryRead): LoadedEntry | undefined {
    if (read.status === 'missing') return undefined;
    if (read.status === 'ok') {
      try {
        return { frame: read.frame, value: decode(read.frame) };
      } catch (error) {
        warn({ file: address.file, reason: (error as Error).message }, 'ignoring a cache entry that does not decode; the call runs again');
        return undefined;
      }
    }
    warn({ file: address.file, reason: read.reason }, 'ignoring a damaged cache entry; the call runs again');
    return undefined;
  }

  /** Save the value of `ref` once its task is done, in the background. A failed task saves nothing. */
  saveWhenDone(runtime: ClientRuntime, ref: ObjectRef, address: EntryAddress, what: string): void {
    const generation = this.#generation;
    this.#track(runtime.get([ref.id]).then(([value]) => {
      // Named here so that the closure keeps the ref (and so its object) alive until the value is read.
      void ref;
      return this.#save(address, value, generation, what);
    }, () => {})); // errors are not cached; the caller sees the error through its own ref
  }

  /** Save `value` as the entry at `address`; resolves when written (or skipped), never rejects. */
  save(address: EntryAddress, value: unknown, what: string): Promise<void> {
    return this.#track(this.#save(address, value, this.#generation, what));
  }

  async #save(address: EntryAddress, value: unknown, generation: number, what: string): Promise<void> {
    const unfit = unstorable(value);
    if (unfit) {
      warn({ function: what, found: unfit }, 'not caching a result that holds an ObjectRef or an actor handle (neither outlives its job)');
      return;
    }
    try {
      const frame = encode(value, false).data;
      await writeEntry(address.file, address.key, frame, () => this.#generation === generation);
    } catch (error) {
      warn({ file: address.file, reason: (error as Error).message }, 'could not write a cache entry; the result is not cached');
    }
  }

  #track(write: Promise<void>): Promise<void> {
    const tracked = write.finally(() => this.#writes.delete(tracked));
    this.#writes.add(tracked);
    return tracked;
  }

  /** Wait for every write in flight (including those that begin meanwhile). */
  async flush(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all([...this.#writes]);
  }

  /**
   * Remove every entry (and temporary file) of every function, and the function folders left
   * empty. Only names the cache makes are touched: `new Memory('.')` then clear() deletes no
   * file of the project.
   */
  clear(): void {
    this.#generation += 1;
    let folders: string[];
    try {
      folders = readdirSync(this.location).filter((name) => FUNCTION_FOLDER.test(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const folder of folders) {
      const dir = path.join(this.location, folder);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue; // a file of that name, or gone meanwhile
      }
      for (const name of names) if (ENTRY_NAME.test(name)) unlinkSync(path.join(dir, name));
      try {
        rmdirSync(dir);
      } catch {
        // not empty: something else lives there
      }
    }
  }
}

/** What in `value` cannot be cached ('an ObjectRef', 'an actor handle'), or undefined. */
function unstorable(value: unknown): string | undefined {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || v instanceof TypedArray || seen.has(v)) continue;
    if (v instanceof ObjectRef) return 'an ObjectRef';
    if (v instanceof ActorHandleBase) return 'an actor handle';
    seen.add(v);
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v instanceof Set) for (const x of v) stack.push(x);
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else for (const key of Object.keys(v)) stack.push((v as Record<string, unknown>)[key]);
  }
  return undefined;
}
