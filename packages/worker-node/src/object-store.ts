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
import type { ErrorPayload, ObjectLocation, Result } from '@weft/protocol';

/** A value's bytes in a file of the node's spill folder. */
export interface SpillFile {
  path: string;
  size: number;
  refs?: string[];
}

/**
 * One object, as the store keeps it. Only the store changes a record: others read these fields
 * and call its methods (every field is readonly outside this module).
 */
export interface ObjectEntry {
  readonly id: string;
  /** Absent while the task that makes it runs, or while its bytes are on another node. */
  readonly result: Result | undefined;
  /** The node that owns it, from its id (see ownerOf); absent: this node (or not known). */
  readonly owner: string | undefined;
  /** Where its bytes are when they are ready on another node and not here. */
  readonly location: ObjectLocation | undefined;
  /** A node to send the result to when it is ready (the task's owner); absent: none. */
  readonly returnTo: string | undefined;
  /** Nodes waiting to be told when it is ready. */
  readonly subscribers: ReadonlySet<string> | undefined;
  /** Whether a fetch from another node is under way. */
  readonly fetching: boolean;
  /** Set while its bytes are only on local disk (its `result` is then absent). */
  readonly spilled: SpillFile | undefined;
  /**
   * A file on local disk that holds its bytes, kept after they were read back (values never
   * change, so spilling it again needs no write); removed when the entry is freed.
   */
  readonly disk: SpillFile | undefined;
  /** When it was last stored or read back (the store's counter): the least recent spill first. */
  readonly touched: number;
  /** Clients (driver or worker ids) and other nodes (`peer:<id>`) holding at least one ref. */
  readonly holders: ReadonlySet<string>;
  /** Pins from task arguments and containing objects. */
  readonly pins: number;
  /** Completion order, for `wait`. 0 while pending. */
  readonly seq: number;
  /** Called once when the result arrives. */
  readonly waiters: ReadonlyArray<(entry: ObjectEntry) => void>;
  /** For an object owned by another node: whether this node registered there as a borrower. */
  readonly borrowed: boolean;
}

/** The record as the store writes it. */
type Entry = { -readonly [K in keyof ObjectEntry]: ObjectEntry[K] } & {
  subscribers: Set<string> | undefined;
  holders: Set<string>;
  waiters: Array<(entry: ObjectEntry) => void>;
};

export class ObjectStore {
  readonly #objects = new Map<string, Entry>();
  /** Brings the bytes of an entry that lacks them (from another node); set by the node. */
  fetch: (entry: ObjectEntry) => void = () => {};
  /** Told of every result stored (to answer subscribers and owners on other nodes). */
  onComplete: (entry: ObjectEntry) => void = () => {};
  /** Told of every entry freed (to release holds on other nodes). */
  onFree: (entry: ObjectEntry) => void = () => {};
  /**
   * Told when an object owned by another node is first referenced here (held or pinned): this
   * node must register at the owner as a borrower, so that the owner keeps it while refs live here.
   */
  onBorrow: (entry: ObjectEntry) => void = () => {};
  /** Told when such an object is no longer referenced here (the borrow ends; the entry may stay, as a copy others pull). */
  onUnborrow: (entry: ObjectEntry) => void = () => {};
  readonly #heldBy = new Map<string, Set<string>>();
  #seq = 0;
  #bytes = 0;
  #spilledObjects = 0;
  #spilledBytes = 0;

  /** @param selfId this node: objects whose ids name it are owned here. @param ownerOf an id's owner (@weft/core's ownerOf). */
  constructor(private readonly selfId = '', private readonly ownerOf: (id: string) => string | undefined = () => undefined) {}

  /** The entry for `id`, created pending when unknown. */
  ensure(id: string): ObjectEntry {
    return this.#ensure(id);
  }

  #ensure(id: string): Entry {
    let entry = this.#objects.get(id);
    if (!entry) {
      const owner = this.ownerOf(id);
      entry = { id, result: undefined, owner: owner === this.selfId ? undefined : owner, location: undefined, returnTo: undefined,
        subscribers: undefined, fetching: false, spilled: undefined, disk: undefined, touched: 0, holders: new Set(), pins: 0, seq: 0,
        waiters: [], borrowed: false };
      this.#objects.set(id, entry);
    }
    return entry;
  }

  /**
   * A client of this node made `id` (a put, a task or a call it submitted here): this node owns
   * it, even when its id names another node (made while the client's connection was moving from
   * a node that restarted to this one).
   */
  adopt(id: string): void {
    const entry = this.#ensure(id);
    if (entry.owner !== undefined && !entry.borrowed) entry.owner = undefined;
  }

  /** The record of `entry` for writing (the caller passes an entry of this store). */
  #w(entry: ObjectEntry): Entry {
    return entry as Entry;
  }

  get(id: string): ObjectEntry | undefined {
    return this.#objects.get(id);
  }

  /** Number of objects and bytes of ready values held in memory; objects spilled to disk and their bytes there. */
  stats(): { objects: number; bytes: number; spilledObjects: number; spilledBytes: number } {
    return { objects: this.#objects.size, bytes: this.#bytes, spilledObjects: this.#spilledObjects, spilledBytes: this.#spilledBytes };
  }

  /** Set or clear where an entry's bytes are on disk, keeping the spilled counts. */
  #setSpilled(entry: Entry, file: SpillFile | undefined): void {
    if (entry.spilled) {
      this.#spilledObjects -= 1;
      this.#spilledBytes -= entry.spilled.size;
    }
    entry.spilled = file;
    if (file) {
      this.#spilledObjects += 1;
      this.#spilledBytes += file.size;
    }
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
      if (result.value.refs) this.pin(result.value.refs, true);
    }
    entry.location = undefined;
    entry.fetching = false;
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const waiter of waiters) waiter(entry);
    this.onComplete(entry);
    this.#maybeFree(entry);
  }

  /**
   * Drop the bytes of a copy of an object another node owns (to make room): its owner keeps it
   * while this node borrows it, and a later fetch asks the owner again.
   */
  dropCopy(view: ObjectEntry): void {
    const entry = this.#w(view);
    if (entry.result?.status !== 'ok' || entry.owner === undefined) return;
    this.#bytes -= entry.result.value.data.byteLength;
    entry.result = undefined;
    entry.location = undefined;
    entry.fetching = false;
  }

  /** The entry's bytes are on disk now, in `file`: release them from memory. */
  spilled(view: ObjectEntry, file: SpillFile): void {
    const entry = this.#w(view);
    if (entry.result?.status !== 'ok') return;
    this.#bytes -= entry.result.value.data.byteLength;
    entry.result = undefined;
    this.#setSpilled(entry, file);
    entry.disk = file;
  }

  /** A spilled entry's bytes are back in memory (its file stays, for the next spill). */
  restored(view: ObjectEntry, result: Result): void {
    const entry = this.#w(view);
    if (this.#objects.get(entry.id) !== entry || entry.result) return;
    this.#setSpilled(entry, undefined);
    entry.result = result;
    entry.touched = ++this.#seq;
    if (result.status === 'ok') this.#bytes += result.value.data.byteLength;
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const waiter of waiters) waiter(entry);
    this.#maybeFree(entry);
  }

  /** Replace an entry's outcome with an error (its value could not be kept). */
  replace(view: ObjectEntry, result: Result): void {
    const entry = this.#w(view);
    if (this.#objects.get(entry.id) !== entry) return;
    if (entry.result?.status === 'ok') this.#bytes -= entry.result.value.data.byteLength;
    entry.result = undefined;
    this.#setSpilled(entry, undefined);
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
    this.#w(entry).waiters.push(callback);
    this.fetch(entry);
  }

  /** Every object, for the state API. */
  entries(): IterableIterator<ObjectEntry> {
    return this.#objects.values();
  }

  addHolder(id: string, client: string): void {
    const entry = this.#ensure(id);
    entry.holders.add(client);
    let held = this.#heldBy.get(client);
    if (!held) this.#heldBy.set(client, (held = new Set()));
    held.add(id);
    // Another node's hold (it pulls or borrows from here) makes no borrower of this one.
    if (!client.startsWith('peer:')) this.#borrow(entry);
  }

  removeHolder(id: string, client: string): void {
    this.#heldBy.get(client)?.delete(id);
    const entry = this.#objects.get(id);
    if (!entry) return;
    entry.holders.delete(client);
    this.#released(entry);
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
      this.#released(entry);
    }
  }

  /** Where the objects `ids` are, as far as this node knows (for placing a task near its arguments). */
  locationsOf(ids: string[]): ObjectLocation[] {
    const locations: ObjectLocation[] = [];
    for (const id of ids) {
      const entry = this.#objects.get(id);
      if (entry?.location) locations.push(entry.location);
      else if (entry?.result?.status === 'ok') locations.push({ objectId: id, nodeId: this.selfId, size: entry.result.value.data.byteLength });
      else if (entry?.owner) locations.push({ objectId: id, nodeId: entry.owner, size: 0 });
    }
    return locations;
  }

  /** Record that the object's bytes are ready on another node. */
  located(view: ObjectEntry, location: ObjectLocation): void {
    const entry = this.#w(view);
    entry.location = location;
    entry.fetching = false;
    if (entry.seq === 0) entry.seq = ++this.#seq;
    // Someone here waits for the bytes: bring them.
    if (entry.waiters.length > 0) this.fetch(entry);
    else this.#maybeFree(entry);
  }

  /**
   * Pin objects (the arguments of a task or call while it waits or runs). `contained`: they are
   * refs inside a value stored here, which holds them as a client would: such refs are borrowed.
   * (A task's arguments are not: its owner keeps them until the task ends, and refs inside them
   * that a worker here keeps are held, hence borrowed, by that worker.)
   */
  pin(ids: Iterable<string>, contained = false): void {
    for (const id of ids) {
      const entry = this.#ensure(id);
      entry.pins += 1;
      if (contained) this.#borrow(entry);
    }
  }

  unpin(ids: Iterable<string>): void {
    for (const id of ids) {
      const entry = this.#objects.get(id);
      if (!entry) continue;
      entry.pins -= 1;
      this.#released(entry);
    }
  }

  /** Where the bytes are to be found when they are not here (the store's record only). */
  setLocation(view: ObjectEntry, location: ObjectLocation | undefined): void {
    this.#w(view).location = location;
  }

  /** A fetch from another node started (true) or ended without bytes (false). */
  setFetching(view: ObjectEntry, fetching: boolean): void {
    this.#w(view).fetching = fetching;
  }

  /** Send the result to `nodeId` (the task's owner) when it is ready. */
  returnResultTo(id: string, nodeId: string): void {
    this.#ensure(id).returnTo = nodeId;
  }

  /** The node to send the result to, once: cleared as it is taken. */
  takeReturnTo(view: ObjectEntry): string | undefined {
    const entry = this.#w(view);
    const returnTo = entry.returnTo;
    entry.returnTo = undefined;
    return returnTo;
  }

  /** `nodeId` waits to be told when the object is ready. */
  addSubscriber(view: ObjectEntry, nodeId: string): void {
    (this.#w(view).subscribers ??= new Set()).add(nodeId);
  }

  /** A node is gone: it waits for nothing here any more. */
  dropSubscriber(nodeId: string): void {
    for (const entry of this.#objects.values()) entry.subscribers?.delete(nodeId);
  }

  /** The nodes waiting to be told, once: cleared as they are taken. */
  takeSubscribers(view: ObjectEntry): ReadonlySet<string> | undefined {
    const entry = this.#w(view);
    const subscribers = entry.subscribers;
    entry.subscribers = undefined;
    return subscribers;
  }

  /** The task that made a lost object runs again here: it is pending again. */
  rebuilding(view: ObjectEntry): void {
    const entry = this.#w(view);
    entry.location = undefined;
    entry.fetching = false;
    entry.seq = 0;
  }

  /** This node subscribed at the owner, which holds the object for it from then on, as for a borrower. */
  subscribed(view: ObjectEntry): void {
    const entry = this.#w(view);
    entry.fetching = true;
    entry.borrowed = true;
  }

  /** The owner no longer has the object this node meant to borrow: the registration is void. */
  borrowRefused(view: ObjectEntry): void {
    this.#w(view).borrowed = false;
  }

  /** An object owned elsewhere that is now referenced here: register as its borrower, once. */
  #borrow(entry: Entry): void {
    if (entry.owner === undefined || entry.borrowed) return;
    entry.borrowed = true;
    this.onBorrow(entry);
  }

  /** A hold or pin went: the borrow ends when nothing here refers to the object any more; it may be freed. */
  #released(entry: Entry): void {
    if (entry.borrowed && entry.pins === 0 && ![...entry.holders].some((holder) => !holder.startsWith('peer:'))) {
      entry.borrowed = false;
      this.onUnborrow(entry);
    }
    this.#maybeFree(entry);
  }

  #maybeFree(view: ObjectEntry): void {
    const entry = this.#w(view);
    // Re-entrant calls (a hook that drops a hold while the entry completes) free it once.
    if (this.#objects.get(entry.id) !== entry) return;
    if (entry.pins > 0 || entry.holders.size > 0 || entry.waiters.length > 0) return;
    // A pending object of this node's (its task has not finished) stays; one owned elsewhere
    // goes, its owner keeps the truth.
    if (!entry.result && !entry.location && !entry.spilled && entry.owner === undefined) return;
    this.#objects.delete(entry.id);
    this.onFree(entry);
    this.#setSpilled(entry, undefined);
    if (entry.result?.status === 'ok') {
      this.#bytes -= entry.result.value.data.byteLength;
      // Objects this one contained were pinned by it.
      if (entry.result.value.refs) this.unpin(entry.result.value.refs);
    }
  }
}
