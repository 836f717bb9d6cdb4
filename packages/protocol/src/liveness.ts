/**
 * How weft tells a silent peer (network cut, process frozen) from a quiet one: every connection
 * pings its peer, anything received counts as life, and a peer heard from for none of
 * DEATH_TIMEOUT_MS is taken for dead. The head uses the same figure for missed heartbeats.
 */

/**
 * How long a silent peer is given before it is taken for dead: a WebSocket connection that
 * received nothing for this long is cut, and the head declares dead a node whose heartbeats
 * stopped for this long.
 */
export const DEATH_TIMEOUT_MS = 4_500;

/** How often a WebSocket connection pings its peer (which answers with a pong). */
export const KEEPALIVE_INTERVAL_MS = 1_000;

/** setTimeout's largest delay; Node fires longer ones after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a connection pings its peer and how long it waits for an answer. */
export interface KeepaliveOptions {
  /** Time between two pings. */
  intervalMs: number;
  /** A peer from which nothing was received for this long is taken for dead; larger than intervalMs. */
  timeoutMs: number;
}

/** The keepalive of a connection when its options do not say. */
const DEFAULT_KEEPALIVE: Readonly<KeepaliveOptions> = { intervalMs: KEEPALIVE_INTERVAL_MS, timeoutMs: DEATH_TIMEOUT_MS };

/** Checks a `keepalive` option and applies the default; throws a TypeError or RangeError naming it. */
export function keepaliveOption(option: KeepaliveOptions | false | undefined): KeepaliveOptions | false {
  if (option === undefined) return DEFAULT_KEEPALIVE;
  if (option === false) return false;
  if (typeof option !== 'object' || option === null) throw new TypeError('keepalive must be false or { intervalMs, timeoutMs }');
  const { intervalMs, timeoutMs } = option;
  if (typeof intervalMs !== 'number' || !(intervalMs > 0 && intervalMs <= MAX_TIMER_MS)) {
    throw new RangeError(`keepalive.intervalMs must be a positive number of milliseconds, got ${String(intervalMs)}`);
  }
  if (typeof timeoutMs !== 'number' || !(timeoutMs > intervalMs && timeoutMs <= MAX_TIMER_MS)) {
    throw new RangeError(`keepalive.timeoutMs must be more than keepalive.intervalMs (${intervalMs}), so that a ping can be answered; got ${String(timeoutMs)}`);
  }
  return option;
}

/** What a {@link Keepalive} acts on. */
export interface KeepalivePeer {
  /** Sends a ping frame. */
  ping(): void;
  /** Bytes received so far, counting those of a frame still arriving. Absent: only whole frames count. */
  bytesRead?: () => number;
  /** Nothing was received for timeoutMs. Called at most once; the keepalive is stopped by then. */
  silent(): void;
}

/**
 * Pings a peer every intervalMs and reports it silent when nothing came from it for timeoutMs.
 * The owner calls `heard` on every frame received (message, ping, pong): it only stores a
 * timestamp, and one timer, set for timeoutMs after the last sign of life, does the judging.
 */
export class Keepalive {
  /** When the last whole frame came (performance.now()). */
  #heardAt = performance.now();
  /** When bytes were last seen coming with no whole frame among them: a large frame arriving. */
  #arrivingAt = Number.NEGATIVE_INFINITY;
  /** bytesRead at the last sample, and when that was. */
  #bytesSeen: number;
  #sampledAt = this.#heardAt;
  readonly #timeoutMs: number;
  readonly #peer: KeepalivePeer;
  readonly #pinger: NodeJS.Timeout;
  #deadline: NodeJS.Timeout | undefined;
  #verdict: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(options: KeepaliveOptions, peer: KeepalivePeer) {
    this.#timeoutMs = options.timeoutMs;
    this.#peer = peer;
    this.#bytesSeen = peer.bytesRead?.() ?? 0;
    this.#pinger = setInterval(() => {
      peer.ping();
      this.#sample(performance.now());
    }, options.intervalMs).unref();
    this.#wait(options.timeoutMs);
  }

  /** Something was received from the peer. */
  readonly heard = (): void => {
    this.#heardAt = performance.now();
  };

  /** Clears the timers; nothing is reported after. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#pinger);
    clearTimeout(this.#deadline);
    clearImmediate(this.#verdict);
  }

  #wait(ms: number): void {
    this.#deadline = setTimeout(() => this.#check(false), ms).unref();
  }

  /**
   * Bytes since the last sample but no whole frame: a large frame is arriving over a link too slow
   * to bring it within the timeout, and the peer's pongs wait behind it. The peer is alive; one
   * that dies mid-frame is noticed within timeoutMs + intervalMs of its last bytes.
   */
  #sample(now: number): void {
    const bytes = this.#peer.bytesRead?.() ?? this.#bytesSeen;
    if (bytes !== this.#bytesSeen && this.#heardAt < this.#sampledAt) this.#arrivingAt = now;
    this.#bytesSeen = bytes;
    this.#sampledAt = now;
  }

  #check(polled: boolean): void {
    if (this.#stopped) return;
    const now = performance.now();
    if (polled) this.#sample(now);
    const silentMs = now - Math.max(this.#heardAt, this.#arrivingAt);
    if (silentMs < this.#timeoutMs) return this.#wait(this.#timeoutMs - silentMs);
    // This process may be the one that stalled (a long synchronous task, a GC pause): timers run
    // before sockets are read, so what the peer sent meanwhile is still unread. Judge after the
    // next poll for I/O has read it.
    if (!polled) {
      this.#verdict = setImmediate(() => this.#check(true));
      return;
    }
    this.stop();
    this.#peer.silent();
  }
}
