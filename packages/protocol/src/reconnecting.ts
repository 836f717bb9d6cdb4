/**
 * A connection that survives its peer restarting, or the path to it breaking: when the
 * underlying connection closes, it connects again with exponential backoff (RECONNECT_MIN_MS
 * doubling to RECONNECT_MAX_MS) and tells its owner after each reconnect, so that the owner can
 * announce itself again (a node registers again with a restarted head).
 *
 * Two ways to carry what is sent while the connection is away:
 * - plain (a node's link to its head): it is queued (up to MAX_QUEUED, oldest dropped first) and
 *   sent on the next connection; what was in flight when the connection broke is lost.
 * - resumable (a driver's link to its node): every message sent is numbered and kept until the
 *   peer says it has handled it (`acked`, the peer's count of messages handled, over all
 *   connections of this sender). A new connection says how many the peer had handled
 *   (`resumeFrom`): the rest is sent again, in order, so nothing is lost or handled twice. A peer
 *   that has no count (it restarted, or dropped this sender) gets every message not acknowledged.
 *
 * States: open → (peer gone) → reconnecting → open … ; close() → closed.
 */
import { logger } from './logger.ts';
import type { Connection } from './connection.ts';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const MAX_QUEUED = 100_000;

/** What a ReconnectingConnection reports besides messages. */
export interface ReconnectHooks {
  /** The connection dropped; it is being re-established (pending requests should fail or wait). */
  disconnected(reason: string): void;
  /**
   * A new connection is open; messages sent from here go over it, ahead of those kept meanwhile.
   * `resumed`: the peer still had this sender's count (resumable mode), so it kept its state.
   */
  reconnected(resumed: boolean): void;
  /** The messages kept while it was away have been sent on the new connection. */
  resumed?(): void;
}

/** A connection the `connect` function opened; `resumeFrom`: the peer's count of this sender's messages handled (resumable mode). */
export interface Reopened<In, Out> {
  conn: Connection<In, Out>;
  resumeFrom?: number | undefined;
}

/** Resumable mode: how to read the peer's acknowledgements. */
export interface ResumeOptions<In> {
  /** The peer's count of this sender's messages handled, if `message` says it; undefined otherwise. */
  acked(message: In): number | undefined;
}

export class ReconnectingConnection<In, Out> implements Connection<In, Out> {
  #current: Connection<In, Out> | undefined;
  /** Plain mode: what was sent while away. Resumable mode: every message not yet acknowledged. */
  #kept: Out[] = [];
  /** Resumable mode: the number of the first kept message (how many the peer acknowledged). */
  #base = 0;
  #handler: (message: In) => void = () => {};
  #closeHandler: (reason: string) => void = () => {};
  #state: 'open' | 'reconnecting' | 'closed' = 'open';
  #delay = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  readonly #log = logger('reconnecting-connection');

  /** Wraps `first` (already open); `connect` opens the next one after a drop. */
  constructor(
    first: Connection<In, Out>,
    private readonly connect: () => Promise<Reopened<In, Out>>,
    private readonly hooks: ReconnectHooks,
    private readonly resume?: ResumeOptions<In>,
  ) {
    this.#use(first);
  }

  send(message: Out): void {
    if (this.#state === 'closed') return;
    const open = this.#current !== undefined && this.#state === 'open';
    if (this.resume) this.#kept.push(message);
    else if (!open) {
      if (this.#kept.length >= MAX_QUEUED) this.#kept.shift(); // oldest first: heartbeats and reports are superseded
      this.#kept.push(message);
    }
    if (open) this.#current?.send(message);
  }

  onMessage(handler: (message: In) => void): void {
    this.#handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.#closeHandler = handler;
  }

  close(reason = 'closed'): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#current?.close(reason);
    this.#current = undefined;
    this.#kept = [];
    this.#closeHandler(reason);
  }

  #use(conn: Connection<In, Out>): void {
    this.#current = conn;
    this.#state = 'open';
    this.#delay = RECONNECT_MIN_MS;
    conn.onMessage((message) => {
      const acked = this.resume?.acked(message);
      if (acked !== undefined) this.#acknowledged(acked);
      this.#handler(message);
    });
    conn.onClose((reason) => {
      if (this.#current !== conn || this.#state === 'closed') return;
      this.#current = undefined;
      this.#state = 'reconnecting';
      this.#log.warn({ reason }, 'connection lost; reconnecting');
      this.hooks.disconnected(reason);
      this.#schedule();
    });
  }

  /** The peer handled the first `count` messages: they need not be kept. */
  #acknowledged(count: number): void {
    const done = Math.min(count - this.#base, this.#kept.length);
    if (done <= 0) return;
    this.#kept.splice(0, done);
    this.#base += done;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#attempt(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS);
  }

  async #attempt(): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    let opened: Reopened<In, Out>;
    try {
      opened = await this.connect();
    } catch (error) {
      this.#log.debug({ reason: error instanceof Error ? error.message : String(error), retryInMs: this.#delay }, 'reconnect failed');
      this.#schedule();
      return;
    }
    if (this.#state !== 'reconnecting') {
      opened.conn.close('closed meanwhile');
      return;
    }
    // What goes again on the new connection, in order: in resumable mode, what the peer has not
    // handled (all that was kept, when it kept no count for this sender).
    const resumed = this.resume !== undefined && opened.resumeFrom !== undefined && opened.resumeFrom >= this.#base;
    const again = resumed ? this.#kept.slice((opened.resumeFrom as number) - this.#base) : this.#kept;
    this.#kept = [];
    this.#base = resumed ? (opened.resumeFrom as number) : 0;
    this.#use(opened.conn);
    this.#log.info({ resumed, again: again.length }, 'reconnected');
    this.hooks.reconnected(resumed);
    for (const message of again) this.send(message);
    this.hooks.resumed?.();
  }
}
