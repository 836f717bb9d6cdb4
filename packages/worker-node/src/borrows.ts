/**
 * This node's registrations as a borrower of objects that other nodes own (Ray's borrowing,
 * node by node). When an object owned elsewhere is first referenced here — a client here holds a
 * ref, a task here takes it, a value here contains it — this node tells the owner
 * (`borrow-objects`), which then keeps the object until this node frees its entry and says so
 * (`release-object`, sent by the node when the entry goes). The owner frees an object everywhere
 * only when neither it nor any borrower holds a ref.
 *
 * A ref handed from one node to another must be registered before the lender lets go of it: the
 * node that received a value with refs inside (a task's result) releases it at the sender only
 * once its own borrows are acknowledged, and a node returns a task's result only once the borrows
 * of its arguments are; see `settled`. Requests to one owner made in one turn travel as one message.
 */
import { ERROR_CODES, logger, type PeerMessage } from '@weft/protocol';
import type { ObjectEntry, ObjectStore } from './object-store.ts';
import type { PeerNetwork } from './peer-network.ts';

export class Borrows {
  /** Ids to register, by owner, sent at the end of this turn. */
  readonly #queued = new Map<string, string[]>();
  /** Requests not yet acknowledged: their owner and ids. */
  readonly #pending = new Map<number, { owner: string; ids: string[] }>();
  /** Waiters of `settled`, each with the last request it waits for. */
  #settledWaiters: Array<{ upTo: number; resolve: () => void }> = [];
  #flushScheduled = false;
  #nextRequestId = 1;
  readonly #log = logger('borrows');

  constructor(private readonly store: ObjectStore, private readonly peers: PeerNetwork) {}

  /** Register this node as a borrower of `entry` at its owner (the store asks, once per entry). */
  borrow(entry: ObjectEntry): void {
    const owner = entry.owner as string;
    let ids = this.#queued.get(owner);
    if (!ids) this.#queued.set(owner, (ids = []));
    ids.push(entry.id);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /**
   * Resolves once every borrow asked for so far is acknowledged (or its owner is gone); borrows
   * asked for later do not delay it.
   */
  settled(): Promise<void> {
    if (this.#queued.size > 0) this.#flush();
    if (this.#pending.size === 0) return Promise.resolve();
    const upTo = this.#nextRequestId - 1;
    return new Promise((resolve) => this.#settledWaiters.push({ upTo, resolve }));
  }

  /** The owner's answer: `missing` are ids it no longer has (freed before this node asked). */
  acked(requestId: number, missing: string[]): void {
    const pending = this.#pending.get(requestId);
    this.#log.debug({ requestId, missing, known: pending !== undefined }, 'borrow acknowledged');
    if (!pending) return;
    this.#pending.delete(requestId);
    for (const id of missing) {
      const entry = this.store.get(id);
      if (!entry) continue;
      this.store.borrowRefused(entry);
      this.#log.warn({ objectId: id, owner: pending.owner }, 'the owner no longer had an object this node borrowed');
      if (!entry.result && !entry.spilled) {
        this.store.fail(id, { code: ERROR_CODES.OBJECT_LOST,
          message: `object ${id} was lost: its owner, node ${pending.owner}, had freed it before this node could borrow it` });
      }
    }
    this.#maybeSettled();
  }

  /**
   * The last connection with `nodeId` closed, perhaps with borrows or their acknowledgements in
   * flight: those not acknowledged are asked again, over a new connection, for the objects this
   * node still borrows (asking twice is harmless: the owner holds an object once per borrower).
   * Without it, results held back by `settled` would wait for an answer that never comes.
   */
  reissue(nodeId: string): void {
    for (const [requestId, pending] of [...this.#pending]) {
      if (pending.owner !== nodeId) continue;
      const ids = pending.ids.filter((id) => this.store.get(id)?.borrowed === true);
      if (ids.length === 0) {
        this.#pending.delete(requestId);
        continue;
      }
      this.#pending.set(requestId, { owner: nodeId, ids });
      this.peers.send(nodeId, { type: 'borrow-objects', requestId, objectIds: ids } satisfies PeerMessage);
    }
    this.#maybeSettled();
  }

  /** A node died: the borrows asked of it will never be acknowledged (its objects are lost). */
  nodeDied(nodeId: string): void {
    this.#queued.delete(nodeId);
    for (const [requestId, pending] of this.#pending) if (pending.owner === nodeId) this.#pending.delete(requestId);
    this.#maybeSettled();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#queued.size === 0) return;
    for (const [owner, ids] of this.#queued) {
      const requestId = this.#nextRequestId++;
      // An owner the head does not list (gone, or not heard of yet) may never answer: results
      // do not wait for it (if it is gone, its objects are lost anyway).
      if (this.peers.isListed(owner)) this.#pending.set(requestId, { owner, ids });
      this.#log.debug({ owner, requestId, objectIds: ids }, 'borrowing objects');
      this.peers.send(owner, { type: 'borrow-objects', requestId, objectIds: ids } satisfies PeerMessage);
    }
    this.#queued.clear();
  }

  #maybeSettled(): void {
    if (this.#settledWaiters.length === 0) return;
    // Requests are numbered in order and the map keeps that order: its first key is the oldest.
    const oldest = this.#pending.keys().next().value ?? Infinity;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = [];
    for (const waiter of waiters) {
      if (waiter.upTo < oldest) waiter.resolve();
      else this.#settledWaiters.push(waiter);
    }
  }
}
