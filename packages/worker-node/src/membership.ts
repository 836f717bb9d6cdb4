/**
 * This node's standing with the head: the lease it holds on its actors, fencing, and the grace
 * a restarted head gets while nodes register with it again.
 *
 * - Lease: the head declares a node dead after its death timeout without a heartbeat, and then
 *   restarts the node's actors elsewhere. A node that has not heard from the head for the death
 *   timeout minus LEASE_MARGIN_MS is about to be declared dead: it is fenced (stops everything and
 *   joins again as a new node) before the head restarts anything, so an actor is never alive on
 *   both sides of a partition. The head sends the peer list every 200 ms, so silence means a cut
 *   link, a frozen head, or this node frozen. A head known to be down (its connections refused)
 *   declares nothing: then the lease does not run out (HeadConnection.silentMs).
 * - Fencing also comes from the head itself, when it declared this node dead before.
 * - Recovery: a restarted head lists nodes as they register with it again, one by one. For
 *   HEAD_RECOVERY_MS after this node registered with it, a node it does not list yet has not
 *   registered yet rather than died (nodes reconnect with a backoff of at most 5 s).
 */
import { logger } from '@weft/protocol';

/** How much sooner than the head's death timeout a silent head fences this node. */
export const LEASE_MARGIN_MS = 1_000;
/** How long missing nodes are not taken for dead after a restarted head took this node back. */
export const HEAD_RECOVERY_MS = 6_000;

export class Membership {
  #leaseMs = 0;
  #deathTimeoutMs = 0;
  #fenced = false;
  #recoveringUntil = 0;
  #recoveryTimer: NodeJS.Timeout | undefined;
  readonly #log = logger('membership');

  /**
   * @param silentMs how long the head has been silent (0 while it is known to be down)
   * @param onFenced starts the node over (absent: a node in the head's process, never fenced)
   * @param recheckPeers re-reads the head's peer list once the recovery grace is over
   */
  constructor(
    private readonly nodeId: string,
    private readonly silentMs: () => number,
    private readonly onFenced: ((reason: string) => void) | undefined,
    private readonly recheckPeers: () => void,
  ) {}

  /** The head took this node's registration; `restarted`: another head instance than before. */
  registered(restarted: boolean, deathTimeoutMs: number): void {
    this.#deathTimeoutMs = deathTimeoutMs;
    this.#leaseMs = Math.max(deathTimeoutMs / 2, deathTimeoutMs - LEASE_MARGIN_MS);
    if (!restarted) return;
    this.#recoveringUntil = Date.now() + HEAD_RECOVERY_MS;
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = setTimeout(() => this.recheckPeers(), HEAD_RECOVERY_MS + 10);
    this.#recoveryTimer.unref();
  }

  /** Whether a restarted head is still hearing from the nodes again. */
  recovering(): boolean {
    return Date.now() < this.#recoveringUntil;
  }

  /** Fence this node if the head has been silent past the lease (called with each heartbeat). */
  check(): void {
    if (this.onFenced === undefined || this.#leaseMs === 0) return;
    const silent = this.silentMs();
    if (silent > this.#leaseMs) this.fence(`no word from the head for ${Math.round(silent)} ms (it declares a node dead after ${this.#deathTimeoutMs} ms)`);
  }

  /** Start over as a new, empty node; once. */
  fence(reason: string): void {
    if (this.#fenced) return;
    this.#fenced = true;
    this.#log.warn({ nodeId: this.nodeId, reason }, 'this node is fenced: stopping its workers and objects, to join again as a new node');
    if (this.onFenced) this.onFenced(reason);
    else this.#log.error({ reason }, 'a node in the head\'s process cannot be fenced');
  }

  stop(): void {
    clearTimeout(this.#recoveryTimer);
    this.#fenced = true;
  }
}
