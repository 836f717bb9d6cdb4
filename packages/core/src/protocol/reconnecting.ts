/**
 * A connection that survives its peer restarting: when the underlying connection closes, it
 * connects again with exponential backoff (RECONNECT_MIN_MS doubling to RECONNECT_MAX_MS),
 * queues what is sent meanwhile (up to MAX_QUEUED), and tells its owner after each reconnect
 * so that the owner can re-announce itself (a node registers again with a restarted head).
 *
 * States: connecting → open → (peer gone) → reconnecting → open … ; close() → closed.
 */
import { logger } from '../logger.ts';
import type { Connection } from './connection.ts';

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const MAX_QUEUED = 100_000;

/** What a ReconnectingConnection reports besides messages. */
export interface ReconnectHooks {
  /** The connection dropped; it is being re-established (pending requests should fail now). */
  disconnected(reason: string): void;
  /** A new connection is open; messages sent from here go over it. */
  reconnected(): void;
}

export class ReconnectingConnection<In, Out> implements Connection<In, Out> {
  #current: Connection<In, Out> | undefined;
  #queue: Out[] = [];
  #handler: (message: In) => void = () => {};
  #closeHandler: (reason: string) => void = () => {};
  #state: 'open' | 'reconnecting' | 'closed' = 'open';
  #delay = RECONNECT_MIN_MS;
  #timer: NodeJS.Timeout | undefined;
  readonly #log = logger('reconnecting-connection');

  /** Wraps `first` (already open); `connect` opens the next one after a drop. */
  constructor(first: Connection<In, Out>, private readonly connect: () => Promise<Connection<In, Out>>, private readonly hooks: ReconnectHooks) {
    this.#use(first);
  }

  send(message: Out): void {
    if (this.#state === 'closed') return;
    if (this.#current && this.#state === 'open') {
      this.#current.send(message);
      return;
    }
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift(); // oldest first: heartbeats and reports are superseded
    this.#queue.push(message);
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
    this.#closeHandler(reason);
  }

  #use(conn: Connection<In, Out>): void {
    this.#current = conn;
    this.#state = 'open';
    this.#delay = RECONNECT_MIN_MS;
    conn.onMessage((message) => this.#handler(message));
    conn.onClose((reason) => {
      if (this.#current !== conn || this.#state === 'closed') return;
      this.#current = undefined;
      this.#state = 'reconnecting';
      this.#log.warn({ reason }, 'connection lost; reconnecting');
      this.hooks.disconnected(reason);
      this.#schedule();
    });
  }

  #schedule(): void {
    this.#timer = setTimeout(() => void this.#attempt(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS);
  }

  async #attempt(): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    let conn: Connection<In, Out>;
    try {
      conn = await this.connect();
    } catch (error) {
      this.#log.debug({ reason: error instanceof Error ? error.message : String(error), retryInMs: this.#delay }, 'reconnect failed');
      this.#schedule();
      return;
    }
    if (this.#state !== 'reconnecting') {
      conn.close('closed meanwhile');
      return;
    }
    this.#use(conn);
    this.#log.info('reconnected');
    this.hooks.reconnected();
    const queued = this.#queue;
    this.#queue = [];
    for (const message of queued) conn.send(message);
  }
}
