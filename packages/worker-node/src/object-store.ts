/**
 * The node's object store: every object a task returned or a client put, with who holds it.
 *
 * Values are frames (see @weft/core's codec). Frames of 100 KiB or more live in a
 * SharedArrayBuffer: the store keeps that buffer, and every reader (the driver, any worker)
 * decodes views of it, so a large array is never copied again after `put` or `return`.
 *
 * Lifetime: an object lives while a client process holds a ref to it (`holders`, reported by
 * each process when its first ObjectRef instance of the id appears and when the last is
 * garbage-collected), or while it is pinned: by a queued or running task that takes it as an
 * argument, or by another object whose value contains its ref. A pending object (its task has
 * not finished) is never freed; it is checked again when it completes.
 */
import type { ErrorPayload, ObjectLocation, Result } from '@weft/core';

/** A value's bytes in a file of the node's spill folder. */
export interface SpillFile {
  path: string;
  size: number;
  refs?: string[];
}

/** One object. */
export interface ObjectEntry {
  readonly id: string;
  /** Absent while the task that makes it runs, or while its bytes are on another node. */
  result: Result | undefined;
  /** The node that owns it (made it, or runs the task that makes it); absent: this node. */
  owner: string | undefined;
  /** Where its bytes are when they are ready on another node and not here. */
  location: ObjectLocation | undefined;
  /** A node to send the result to when it is ready (the task's owner); absent: none. */
  returnTo: string | undefined;
  /** Nodes waiting to be told when it is ready. */
  subscribers: Set<string> | undefined;
  /** Whether a fetch from another node is under way. */
  fetching: boolean;
  /** Set while its bytes are only on local disk (its `result` is then absent). */
  spilled: SpillFile | undefined;
  /**
   * A file on local disk that holds its bytes, kept after they were read back (values never
   * change, so spilling it again needs no write); removed when the entry is freed.
   */
  disk: SpillFile | undefined;
  /** When it was last stored or read back (the store's counter): the least recent spill first. */
  touched: number;
  /** Clients (driver or worker ids) holding at least one ref. */
  readonly holders: Set<string>;
  /** Pins from task arguments and containing objects. */
  pins: number;
  /** Completion order, for `wait`. 0 while pending. */
  seq: number;
  /** Called once when the result arrives. */
  waiters: Array<(entry: ObjectEntry) => void>;
}

export class ObjectStore {
  readonly #objects = new Map<string, ObjectEntry>();
  /** Brings the bytes of an entry that lacks them (from another node); set by the node. */
  fetch: (entry: ObjectEntry) => void = () => {};
  /** Told of every result stored (to answer subscribers and owners on other nodes). */
  onComplete: (entry: ObjectEntry) => void = () => {};
  /** Told of every entry freed (to release holds on other nodes). */
  onFree: (entry: ObjectEntry) => void = () => {};
  readonly #heldBy = new Map<string, Set<string>>();
  #seq = 0;
  #bytes = 0;

  /** The entry for `id`, created pending when unknown. */
  ensure(id: string): ObjectEntry {
    let entry = this.#objects.get(id);
    if (!entry) {
      entry = { id, result: undefined, owner: undefined, location: undefined, returnTo: undefined, subscribers: undefined,
        fetching: false, spilled: undefined, disk: undefined, touched: 0, holders: new Set(), pins: 0, seq: 0, waiters: [] };
      this.#objects.set(id, entry);
    }
    return entry;
  }

  get(id: string): ObjectEntry | undefined {
    return this.#objects.get(id);
  }

  /** Number of objects and bytes of ready values held in memory. */
  stats(): { objects: number; bytes: number } {
    return { objects: this.#objects.size, bytes: this.#bytes };
  }

  /** Store the result of `id` (first one wins: a cancelled task's late result is dropped). */
  complete(id: string, result: Result): void {
    const entry = this.#objects.get(id);
    if (!entry || entry.result) return;
    entry.result = result;
    entry.seq = ++this.#seq;
    entry.touched = entry.seq;
    if (result.status === 'ok') {
      this.#bytes += result.value.data.byteLength;
      if (result.value.refs) this.pin(result.value.refs);
    }
    entry.location = undefined;
    entry.fetching = false;
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const waiter of waiters) waiter(entry);
    this.onComplete(entry);
    this.#maybeFree(entry);
  }

  /** Drop the bytes of a copy whose owner has the object (to make room); it can be fetched again. */
  release(entry: ObjectEntry, location: ObjectLocation): void {
    if (entry.result?.status !== 'ok') return;
    this.#bytes -= entry.result.value.data.byteLength;
    entry.result = undefined;
    entry.location = location;
  }

  /** The entry's bytes are on disk now, in `file`: release them from memory. */
  spilled(entry: ObjectEntry, file: SpillFile): void {
    if (entry.result?.status !== 'ok') return;
    this.#bytes -= entry.result.value.data.byteLength;
    entry.result = undefined;
    entry.spilled = file;
    entry.disk = file;
  }

  /** A spilled entry's bytes are back in memory (its file stays, for the next spill). */
  restored(entry: ObjectEntry, result: Result): void {
    if (this.#objects.get(entry.id) !== entry || entry.result) return;
    entry.spilled = undefined;
    entry.result = result;
    entry.touched = ++this.#seq;
    if (result.status === 'ok') this.#bytes += result.value.data.byteLength;
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const waiter of waiters) waiter(entry);
    this.#maybeFree(entry);
  }

  /** Replace an entry's outcome with an error (its value could not be kept). */
  replace(entry: ObjectEntry, result: Result): void {
    if (this.#objects.get(entry.id) !== entry) return;
    if (entry.result?.status === 'ok') this.#bytes -= entry.result.value.data.byteLength;
    entry.result = undefined;
    entry.spilled = undefined;
    entry.location = undefined;
    this.complete(entry.id, result);
  }

  /** Fail `id` with an error. */
  fail(id: string, error: ErrorPayload): void {
    this.complete(id, { status: 'error', error });
  }

  /** Call `callback` when `id` has a result here (at once if it has); fetches it if it is elsewhere. */
  onResult(entry: ObjectEntry, callback: (entry: ObjectEntry) => void): void {
    if (entry.result) {
      callback(entry);
      return;
    }
    entry.waiters.push(callback);
    this.fetch(entry);
  }

  /** Every object, for the state API. */
  entries(): IterableIterator<ObjectEntry> {
    return this.#objects.values();
  }

  addHolder(id: string, client: string): void {
    this.ensure(id).holders.add(client);
    let held = this.#heldBy.get(client);
    if (!held) this.#heldBy.set(client, (held = new Set()));
    held.add(id);
  }

  removeHolder(id: string, client: string): void {
    this.#heldBy.get(client)?.delete(id);
    const entry = this.#objects.get(id);
    if (!entry) return;
    entry.holders.delete(client);
    this.#maybeFree(entry);
  }

  /** A client went away: drop every hold it had. */
  dropClient(client: string): void {
    const held = this.#heldBy.get(client);
    this.#heldBy.delete(client);
    if (!held) return;
    for (const id of held) {
      const entry = this.#objects.get(id);
      if (!entry) continue;
      entry.holders.delete(client);
      this.#maybeFree(entry);
    }
  }

  /** Record that the object's bytes are ready on another node. */
  located(entry: ObjectEntry, location: ObjectLocation): void {
    entry.location = location;
    entry.fetching = false;
    if (entry.seq === 0) entry.seq = ++this.#seq;
    // Someone here waits for the bytes: bring them.
    if (entry.waiters.length > 0) this.fetch(entry);
    else this.#maybeFree(entry);
  }

  pin(ids: Iterable<string>): void {
    for (const id of ids) this.ensure(id).pins += 1;
  }

  unpin(ids: Iterable<string>): void {
    for (const id of ids) {
      const entry = this.#objects.get(id);
      if (!entry) continue;
      entry.pins -= 1;
      this.#maybeFree(entry);
    }
  }

  #maybeFree(entry: ObjectEntry): void {
    // Re-entrant calls (a hook that drops a hold while the entry completes) free it once.
    if (this.#objects.get(entry.id) !== entry) return;
    if ((!entry.result && !entry.location && !entry.spilled) || entry.pins > 0 || entry.holders.size > 0 || entry.waiters.length > 0) return;
    this.#objects.delete(entry.id);
    this.onFree(entry);
    if (entry.result?.status === 'ok') {
      this.#bytes -= entry.result.value.data.byteLength;
      // Objects this one contained were pinned by it.
      if (entry.result.value.refs) this.unpin(entry.result.value.refs);
    }
  }
}
