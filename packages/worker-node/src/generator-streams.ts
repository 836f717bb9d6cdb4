/**
 * Streaming generators (Ray's ObjectRefGenerator), on the node side. A remote `function*` or
 * `async function*` runs as one task (TaskSpec.generator) whose yielded values are objects of
 * their own, named from the task's id (yieldId: `<taskId>-<index>`), so the node that runs it, the
 * owner and the consumer name them alike without telling each other, and ownerOf names the
 * task's owner for each. The task's own object (its id) is its outcome: the number of values, or
 * the error it ended with.
 *
 * The path of a value, on the same paths as a task's result:
 *
 *   worker ──task-yield──▶ node running it ──(owner elsewhere) task-yield──▶ owner node
 *      (in order, then task-done)       stores it, as a result:          stores it (store.complete),
 *                                       small ones travel whole,         or where it is (store.located);
 *                                       large ones stay, by location     held for the stream here
 *
 *   consumer (ObjectRefGenerator.next) ──read-stream──▶ owner ──stream-item──▶ the item's id, held
 *                                                         for the consumer from then on, or null:
 *                                                         the task ended before yielding it
 *
 * The owner keeps each stream from the submit on (this component, one record per generator task
 * it owns) and holds each item for it ("stream:<taskId>", a holder as a client is) until a reader
 * takes it, or until the task's own object is freed (nobody holds the generator or its
 * `completed()` ref any more): unread items go with it. A stream ends when the task's object gets
 * its result here; the values come before it, in order, over one port or one peer connection.
 *
 * No backpressure: yields are not throttled by reads (Ray's
 * `_generator_backpressure_num_objects` is not built); unread values wait in the store, which
 * spills them to disk beyond its memory.
 */
import { logger, yieldId, type EncodedValue, type ObjectLocation, type PeerMessage, type Result } from '@weft/protocol';
import type { ObjectEntry, ObjectStore } from './object-store.ts';
import { ownBytes, peerHolder } from './object-resolver.ts';
import type { WaitClient } from './object-waits.ts';

/** What the streams need of the node. */
export interface StreamServices {
  /** The task `taskId` waits in a read (its CPUs are lent), or stopped waiting; undefined: a driver. */
  blocked(taskId: string | undefined): void;
  unblocked(taskId: string | undefined): void;
  /**
   * Tell `owner` that `entry` (a value yielded here, held for `owner`) is ready, as a task's result
   * is told: `message` makes the peer message of what to tell.
   */
  forward(entry: ObjectEntry, owner: string, message: (result: TaskYield['result']) => PeerMessage): void;
  /** A task this node spilled yielded on the node running it (it is then not run again). */
  spilledYield(taskId: string): void;
  /** Let `to` drop the copy of `objectId` it kept for this node; `afterBorrows`: once the refs inside it are borrowed here. */
  release(to: string, objectId: string, afterBorrows: boolean): void;
}

type TaskYield = Extract<PeerMessage, { type: 'task-yield' }>;

interface Reader {
  client: WaitClient;
  requestId: number;
  index: number;
  /** The task that waits in the read; undefined: a driver. */
  taskId: string | undefined;
}

interface Stream {
  /** Items told here so far (0 … received-1). */
  received: number;
  /** The task's own object has its result: no item comes after `received`. */
  ended: boolean;
  /** Reads waiting for an item not here yet. */
  readers: Reader[];
}

/** The holder that keeps a stream's items until they are read. */
const streamHolder = (taskId: string): string => `stream:${taskId}`;

export class GeneratorStreams {
  readonly #streams = new Map<string, Stream>();
  readonly #log = logger('generator-streams');

  constructor(private readonly store: ObjectStore, private readonly services: StreamServices) {}

  /** A client of this node submitted the generator task `taskId`: its stream is kept here. */
  open(taskId: string): void {
    if (!this.#streams.has(taskId)) this.#streams.set(taskId, { received: 0, ended: false, readers: [] });
  }

  /**
   * A worker of this node yielded item `index` of the generator task `taskId` (the scheduler
   * checked that the task still runs there). Kept in the stream when this node owns the task;
   * else stored here for the owner (`returnTo`, where the task's result goes) and told to it.
   */
  yielded(taskId: string, index: number, value: EncodedValue): void {
    const owner = this.store.get(taskId)?.returnTo;
    if (owner === undefined) {
      if (!this.item(taskId, index, { status: 'ok', value })) this.#log.warn({ taskId, index }, 'dropped a value yielded for a stream this node does not keep');
      return;
    }
    const id = yieldId(taskId, index);
    // Held for the owner until it has the value (a small one) or frees it (a large one, pulled from here).
    this.store.addHolder(id, peerHolder(owner));
    this.store.complete(id, { status: 'ok', value });
    const entry = this.store.get(id);
    if (entry?.result) this.services.forward(entry, owner, (result) => ({ type: 'task-yield', taskId, index, result }));
  }

  /** The node running a task this node spilled tells a value it yielded. */
  told(from: string, message: TaskYield): void {
    const outcome = message.result.status === 'remote' ? message.result.location : ownBytes(message.result);
    this.services.spilledYield(message.taskId);
    const kept = this.item(message.taskId, message.index, outcome);
    // As with a task's result, the sender keeps a large value until this node frees it, and a
    // small one with refs inside until they are borrowed here; all of it at once when not kept.
    const withRefs = 'status' in outcome && outcome.status === 'ok' && outcome.value.refs !== undefined;
    const id = yieldId(message.taskId, message.index);
    if (!kept && (withRefs || !('status' in outcome))) this.services.release(from, id, false);
    else if (kept && withRefs) this.services.release(from, id, true);
  }

  /**
   * Item `index` of the stream of `taskId` is told here: its value, or where it is. False when the
   * stream does not take it (not kept here, ended, or told before): its sender may let go of it.
   */
  item(taskId: string, index: number, outcome: Result | ObjectLocation): boolean {
    const stream = this.#streams.get(taskId);
    if (!stream || stream.ended || index !== stream.received) {
      // Items come in order over one connection: a gap means one was lost (logged); a repeat is dropped.
      if (stream && !stream.ended && index > stream.received) this.#log.warn({ taskId, index, expected: stream.received }, 'a stream\'s value came out of order; dropped');
      return false;
    }
    const id = yieldId(taskId, index);
    // The task's owner owns its values, whatever node its id names (a driver that moved here).
    this.store.adopt(id);
    this.store.addHolder(id, streamHolder(taskId));
    if ('status' in outcome) this.store.complete(id, outcome);
    else this.store.located(this.store.ensure(id), outcome);
    stream.received += 1;
    const waiting = stream.readers;
    stream.readers = [];
    for (const reader of waiting) {
      if (reader.index < stream.received) this.#answer(taskId, stream, reader);
      else stream.readers.push(reader);
    }
    return true;
  }

  /**
   * A client reads item `index` of the stream of `streamId`: answered once it is here, or with
   * null once the task has ended without it (or when this node keeps no such stream: the task's
   * object says why). The read counts as a wait of `taskId`, as a get does, even when answered at once.
   */
  read(client: WaitClient, requestId: number, streamId: string, index: number, taskId: string | undefined): void {
    this.services.blocked(taskId);
    const stream = this.#streams.get(streamId);
    const reader: Reader = { client, requestId, index, taskId };
    if (stream && !stream.ended && index >= stream.received) stream.readers.push(reader);
    else this.#answer(streamId, stream, reader);
  }

  /** An entry got its result here: when it is a stream's task, the stream ends. */
  completed(entry: ObjectEntry): void {
    const stream = this.#streams.get(entry.id);
    if (!stream || stream.ended) return;
    stream.ended = true;
    const waiting = stream.readers;
    stream.readers = [];
    for (const reader of waiting) this.#answer(entry.id, stream, reader);
  }

  /** An entry was freed: when it is a stream's task (nobody holds the generator), its unread items go. */
  freed(entry: ObjectEntry): void {
    const stream = this.#streams.get(entry.id);
    if (!stream) return;
    this.#streams.delete(entry.id);
    stream.ended = true;
    for (const reader of stream.readers) this.#answer(entry.id, undefined, reader);
    this.store.dropClient(streamHolder(entry.id));
  }

  /** A client went away: its reads are dropped (a driver that comes back reads again). */
  dropClient(clientId: string): void {
    for (const stream of this.#streams.values()) {
      if (stream.readers.some((reader) => reader.client.id === clientId)) stream.readers = stream.readers.filter((reader) => reader.client.id !== clientId);
    }
  }

  #answer(streamId: string, stream: Stream | undefined, reader: Reader): void {
    let objectId: string | null = null;
    if (stream && reader.index < stream.received) {
      objectId = yieldId(streamId, reader.index);
      // The answer holds the item for the reader (as a submit holds a result for its submitter);
      // the stream lets go of it then. (An item freed already, read again after a reconnect, is
      // not made anew: get says it was freed.)
      if (this.store.get(objectId)) {
        this.store.addHolder(objectId, reader.client.id);
        this.store.removeHolder(objectId, streamHolder(streamId));
      }
    }
    this.services.unblocked(reader.taskId);
    reader.client.send({ type: 'stream-item', requestId: reader.requestId, objectId });
  }
}
