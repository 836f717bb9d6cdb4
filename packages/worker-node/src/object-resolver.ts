/**
 * Brings objects to this node from the node that has them, and serves this node's objects to
 * others. An object a client here needs, owned by another node, is subscribed to at its owner,
 * which answers when it is ready: small values inline, large ones with their location, which is
 * then pulled: in one request when it fits in WHOLE_BYTES (the transport sends it in parts and
 * writes them into one shared-memory buffer here, which becomes the stored value: one copy on
 * arrival, and workers here read it in place), else in chunks of CHUNK_BYTES, WINDOW in flight,
 * copied into one buffer.
 *
 * A node that subscribes or pulls counts as a holder at the other end ("peer:<nodeId>") until
 * it sends `release-object`.
 */
import {
  ERROR_CODES, DEFAULT_MAX_BATCH_BYTES, SHARED_THRESHOLD_BYTES, allocateFrame, logger, type EncodedValue,
  type ObjectLocation, type PeerMessage, type Result,
} from '@weft/protocol';
import type { ObjectEntry, ObjectStore } from './object-store.ts';
import type { PeerNetwork } from './peer-network.ts';

/**
 * Largest object pulled in one request. The transport cuts a value into frames (of 1 MiB) itself
 * and streams them back to back, so a request is a unit of memory, not of flight: a whole object
 * up to this size comes in one, without a gap between requests or a copy out of a chunk's buffer.
 * Far under the bytes one batch may carry (DEFAULT_MAX_BATCH_BYTES).
 */
const WHOLE_BYTES = Math.min(512 * 1024 * 1024, Math.floor(DEFAULT_MAX_BATCH_BYTES / 4));
/** Bytes per chunk of a larger object: each is copied into the object's buffer, so its buffer is extra memory while in flight. */
const CHUNK_BYTES = Math.min(64 * 1024 * 1024, WHOLE_BYTES);
/** Chunks of a larger object in flight at once. */
const WINDOW = 2;

interface Pull {
  location: ObjectLocation;
  buffer: Uint8Array | undefined;
  next: number;
  received: number;
  requests: Map<number, number>;
}

/** The holder name of a node. */
export const peerHolder = (nodeId: string): string => `peer:${nodeId}`;

export class ObjectResolver {
  /** Bytes of object chunks this node received from other nodes, and served to them, since it started. */
  #bytesPulled = 0;
  #bytesPushed = 0;
  readonly #pulls = new Map<string, Pull>();
  #nextRequestId = 1;
  readonly #log = logger('object-resolver');

  constructor(
    private readonly selfId: string,
    private readonly store: ObjectStore,
    private readonly peers: PeerNetwork,
  ) {}

  /** Bytes of object chunks pulled from other nodes and served to them since this node started. */
  transferred(): { pulled: number; pushed: number } {
    return { pulled: this.#bytesPulled, pushed: this.#bytesPushed };
  }

  /** Start bringing `entry`'s bytes here if they are elsewhere (idempotent). */
  fetch(entry: ObjectEntry): void {
    // A result this node is making (a task or call it runs for another node) comes here anyway.
    if (entry.result || entry.fetching || entry.returnTo !== undefined) return;
    if (entry.location && entry.location.nodeId !== this.selfId) {
      this.store.setFetching(entry, true);
      this.#pull(entry.location);
    } else if (entry.owner && entry.owner !== this.selfId) {
      this.store.subscribed(entry);
      this.peers.send(entry.owner, { type: 'subscribe-object', objectId: entry.id });
    }
  }

  /**
   * A node died: objects whose bytes were only there, or whose owner it was, are rebuilt when
   * `rebuild` can (this node owns the task that made them), else fail with ObjectLostError.
   */
  nodeDied(nodeId: string, rebuild: (entry: ObjectEntry) => boolean): void {
    for (const [objectId, pull] of [...this.#pulls]) if (pull.location.nodeId === nodeId) this.#pulls.delete(objectId);
    for (const entry of [...this.store.entries()]) {
      if (entry.result) continue;
      const there = entry.location?.nodeId === nodeId;
      if (!there && entry.owner !== nodeId) continue;
      this.store.setFetching(entry, false);
      if (there && rebuild(entry)) continue;
      this.store.complete(entry.id, { status: 'error', error: { code: ERROR_CODES.OBJECT_LOST,
        message: `object ${entry.id} was lost: node ${nodeId}, which held ${there ? 'its only copy' : 'it (its owner)'}, died, and `
          + 'it cannot be rebuilt (objects from put() have no task to re-run); put it again, or keep a copy' } });
    }
  }

  /**
   * The connection with `nodeId` closed, perhaps with answers in flight: pulls from it start over
   * and subscriptions to it (as the owner) are sent again, over a new connection.
   */
  reissue(nodeId: string): void {
    for (const [objectId, pull] of [...this.#pulls]) {
      if (pull.location.nodeId !== nodeId) continue;
      this.#pulls.delete(objectId);
      this.#pull(pull.location);
    }
    for (const entry of this.store.entries()) {
      if (!entry.result && entry.fetching && !entry.location && entry.owner === nodeId) {
        this.peers.send(nodeId, { type: 'subscribe-object', objectId: entry.id });
      }
    }
  }

  /** What to tell another node about a ready entry: the value itself when small, else where it is. */
  describe(entry: ObjectEntry): Result | { status: 'remote'; location: ObjectLocation } {
    const result = entry.result as Result;
    if (result.status === 'error' || result.value.data.byteLength < SHARED_THRESHOLD_BYTES) return result;
    return { status: 'remote', location: { objectId: entry.id, nodeId: this.selfId, size: result.value.data.byteLength,
      ...(result.value.refs ? { refs: result.value.refs } : {}) } };
  }

  /** Record what another node says an object is (ready inline, or ready over there). */
  arrived(objectId: string, result: Result | { status: 'remote'; location: ObjectLocation }): void {
    if (result.status !== 'remote') {
      this.store.complete(objectId, ownBytes(result));
      return;
    }
    const entry = this.store.ensure(objectId);
    if (entry.result) return;
    this.store.located(entry, result.location);
  }

  handle(from: string, message: PeerMessage): void {
    switch (message.type) {
      case 'subscribe-object': {
        const entry = this.store.get(message.objectId);
        if (!entry) {
          this.peers.send(from, { type: 'object-ready', objectId: message.objectId, result: { status: 'error', error: { code: ERROR_CODES.OBJECT_LOST,
            message: `object ${message.objectId} is not on node ${this.selfId} any more (it was freed)` } } });
          return;
        }
        this.store.addHolder(entry.id, peerHolder(from));
        this.store.addSubscriber(entry, from);
        if (entry.result) this.notify(entry);
        else if (entry.spilled) this.store.onResult(entry, () => this.notify(entry));
        return;
      }
      case 'object-ready':
        return this.arrived(message.objectId, message.result);
      case 'pull-object':
        return this.#serve(from, message.requestId, message.objectId, message.offset, message.length);
      case 'object-chunk':
        return this.#chunk(message);
      case 'release-object':
        return this.store.removeHolder(message.objectId, peerHolder(from));
      case 'borrow-objects': {
        // `from` holds refs to objects of ours: keep each while it does.
        const missing: string[] = [];
        for (const id of message.objectIds) {
          if (this.store.get(id)) this.store.addHolder(id, peerHolder(from));
          else missing.push(id);
        }
        this.peers.send(from, { type: 'borrow-ack', requestId: message.requestId, missing });
        return;
      }
      default:
        return;
    }
  }

  /** Tell the nodes subscribed to `entry` that it is ready. */
  notify(entry: ObjectEntry): void {
    if (!entry.subscribers || !entry.result) return;
    const result = this.describe(entry);
    // The subscriber's hold stays: it borrows the object until it frees its copy.
    for (const nodeId of this.store.takeSubscribers(entry) ?? []) this.peers.send(nodeId, { type: 'object-ready', objectId: entry.id, result });
  }

  #pull(location: ObjectLocation): void {
    if (this.#pulls.has(location.objectId)) return;
    this.#log.debug({ objectId: location.objectId, from: location.nodeId, bytes: location.size }, 'pulling object');
    // The buffer first, so that taking it (or faulting it in) overlaps the first chunks' flight;
    // an object that comes in one chunk arrives in a buffer of its own (see #chunk).
    const buffer = location.size > WHOLE_BYTES ? allocateFrame(location.size) : undefined;
    const pull: Pull = { location, buffer, next: 0, received: 0, requests: new Map() };
    this.#pulls.set(location.objectId, pull);
    for (let i = 0; i < WINDOW; i++) this.#request(pull);
  }

  #request(pull: Pull): void {
    if (pull.next >= pull.location.size && pull.location.size > 0) return;
    if (pull.location.size === 0 && pull.next > 0) return;
    const requestId = this.#nextRequestId++;
    const length = pull.location.size <= WHOLE_BYTES ? pull.location.size : Math.min(CHUNK_BYTES, pull.location.size - pull.next);
    pull.requests.set(requestId, pull.next);
    this.peers.send(pull.location.nodeId, { type: 'pull-object', requestId, objectId: pull.location.objectId, offset: pull.next, length });
    pull.next += Math.max(length, 1);
  }

  #serve(from: string, requestId: number, objectId: string, offset: number, length: number): void {
    const entry = this.store.get(objectId);
    this.#log.debug({ objectId, to: from, offset, length, has: Boolean(entry?.result) }, 'serving object chunk');
    if (entry?.spilled) {
      this.store.onResult(entry, () => this.#serve(from, requestId, objectId, offset, length));
      return;
    }
    const result = entry?.result;
    if (!result || result.status !== 'ok') {
      this.peers.send(from, { type: 'object-chunk', requestId, objectId, offset, total: 0, data: new Uint8Array(0),
        error: result?.status === 'error' ? result.error : { code: ERROR_CODES.OBJECT_LOST, message: `object ${objectId} is not on node ${this.selfId} any more` } });
      return;
    }
    const data = result.value.data;
    const chunk = data.subarray(offset, offset + length);
    this.#bytesPushed += chunk.byteLength;
    this.peers.send(from, { type: 'object-chunk', requestId, objectId, offset, total: data.byteLength, data: chunk });
  }

  #chunk(message: Extract<PeerMessage, { type: 'object-chunk' }>): void {
    const pull = this.#pulls.get(message.objectId);
    if (!pull || !pull.requests.delete(message.requestId)) return;
    if (message.error) {
      this.#pulls.delete(message.objectId);
      this.store.complete(message.objectId, { status: 'error', error: message.error });
      return;
    }
    if (pull.buffer === undefined && message.offset === 0 && message.data.byteLength === message.total) {
      // The whole object in one chunk: its bytes, copied out of the network frames already, are the value.
      pull.buffer = ownValue({ data: message.data }).data;
    } else {
      pull.buffer ??= allocateFrame(message.total);
      pull.buffer.set(message.data, message.offset);
    }
    pull.received += message.data.byteLength;
    this.#bytesPulled += message.data.byteLength;
    if (pull.received >= message.total) {
      this.#pulls.delete(message.objectId);
      const refs = pull.location.refs;
      this.store.complete(message.objectId, { status: 'ok', value: refs ? { data: pull.buffer, refs } : { data: pull.buffer } });
      // The owner keeps its copy while this node borrows the object (see Borrows).
      this.#log.debug({ objectId: message.objectId, bytes: message.total }, 'pulled object');
      return;
    }
    this.#request(pull);
  }
}

/** A result whose bytes arrived in a network frame: copied out, so the frame can be freed. */
export function ownBytes(result: Result): Result {
  return result.status === 'ok' ? { status: 'ok', value: ownValue(result.value) } : result;
}

/**
 * An encoded value copied out of the network frame it arrived in (shared memory when large).
 * Bytes that already own their buffer are kept, copying them again would buy nothing: small
 * fields, which the transport copies out of small frames, and shared memory at the start of its
 * buffer, which no socket reads into: the transport wrote a large attachment there (a buffer of
 * the memory pool, whose length is rounded up: the value need not fill it).
 */
export function ownValue(value: EncodedValue): EncodedValue {
  const bytes = value.data;
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const shared = bytes.buffer instanceof SharedArrayBuffer;
  if (shared ? bytes.byteOffset === 0 : whole && bytes.byteLength < SHARED_THRESHOLD_BYTES) return value;
  const data = allocateFrame(bytes.byteLength);
  data.set(bytes);
  return value.refs ? { data, refs: value.refs } : { data };
}
