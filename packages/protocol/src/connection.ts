/**
 * Transports for protocol messages. Each batches what is sent in one turn of the event loop
 * into one delivery (see batcher.ts).
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { logger } from './logger.ts';
import { MicrotaskBatcher } from './batcher.ts';
import { ProtocolError, type Validator } from './validate.ts';
import type { PortRuns } from './port-runs.ts';

/** One end of a channel carrying `Out` messages out and `In` messages in. */
export interface Connection<In, Out> {
  /** Queue a message; it leaves at the end of this turn. */
  send(message: Out): void;
  /** Set the handler for incoming messages (one handler; setting again replaces it). */
  onMessage(handler: (message: In) => void): void;
  /** Set the handler called once when the channel closes. */
  onClose(handler: (reason: string) => void): void;
  /** Close the channel. */
  close(reason?: string): void;
}

/** Shared batching: what is sent in one turn leaves as one delivery. */
abstract class BatchingConnection<In, Out> implements Connection<In, Out> {
  readonly #batch = new MicrotaskBatcher<Out>(() => this.flush());
  protected handler: (message: In) => void = () => {};
  protected closeHandler: (reason: string) => void = () => {};
  protected closed = false;

  send(message: Out): void {
    if (!this.closed) this.#batch.push(message);
  }

  /** Deliver what was sent this turn now rather than at its end (before the sender blocks its thread). */
  flush(): void {
    const batch = this.#batch.take();
    if (!this.closed && batch.length > 0) this.deliver(batch);
  }

  protected receive(batch: In[]): void {
    for (const message of batch) this.handler(message);
  }

  onMessage(handler: (message: In) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.closeHandler(reason);
  }

  protected abstract deliver(batch: Out[]): void;
}

class InProcessEnd<In, Out> extends BatchingConnection<In, Out> {
  peer: InProcessEnd<Out, In> | undefined;
  protected deliver(batch: Out[]): void {
    this.peer?.receive(batch);
  }
  override close(reason = 'closed'): void {
    if (this.closed) return;
    super.close(reason);
    this.peer?.close(reason);
  }
}

/** Two connected ends within one thread (the embedded driver and its node). No copies. */
export function inProcessPair<A, B>(): [Connection<A, B>, Connection<B, A>] {
  const left = new InProcessEnd<A, B>();
  const right = new InProcessEnd<B, A>();
  left.peer = right;
  right.peer = left;
  return [left, right];
}

/** Options of a {@link PortConnection}. */
export interface PortConnectionOptions<In, Out = unknown> {
  /**
   * Checks each message that arrives. One that fails is dropped and logged, and the port stays
   * open: a malformed message from a worker is a bug in it, not a reason to lose its other
   * messages, nor to throw out of the port's listener (which would end the node). Absent: the
   * messages are trusted (a worker reading its node's port).
   */
  validate?: Validator<In>;
  /** Who sends on the port, for logs. @default 'port' */
  remote?: string;
  /**
   * Packs runs of like messages going out and expands those coming in (port-runs.ts); a run that
   * arrives malformed is dropped and logged as a malformed message is. Both ends must use it.
   */
  runs?: PortRuns<In, Out>;
}

const portLog = logger('port');

/** A connection over a worker_thread's MessagePort (or the Worker object on the parent side). */
export class PortConnection<In, Out> extends BatchingConnection<In, Out> {
  readonly #port: MessagePort | Worker;
  readonly #validate: Validator<In> | undefined;
  readonly #remote: string;
  readonly #runs: PortRuns<In, Out> | undefined;
  constructor(port: MessagePort | Worker, options: PortConnectionOptions<In, Out> = {}) {
    super();
    this.#port = port;
    this.#validate = options.validate;
    this.#remote = options.remote ?? 'port';
    this.#runs = options.runs;
    port.on('message', (batch: unknown) => (this.#validate === undefined && this.#runs === undefined ? this.receive(batch as In[]) : this.#receiveChecked(batch)));
  }

  #receiveChecked(batch: unknown): void {
    if (!Array.isArray(batch)) {
      portLog.warn({ remote: this.#remote }, 'dropped a message batch that is not an array');
      return;
    }
    for (const raw of batch) {
      let messages: In[] | undefined;
      let message: In | undefined;
      try {
        messages = this.#runs?.expand(raw);
        // The messages of a run are made by expand, whole: only the run itself needs checking.
        if (messages === undefined) message = this.#validate === undefined ? (raw as In) : this.#validate(raw);
      } catch (error) {
        const reason = error instanceof ProtocolError ? error.reason : String(error);
        portLog.warn({ remote: this.#remote, reason }, 'dropped a malformed message');
        continue;
      }
      if (messages === undefined) this.#handle(message as In);
      else for (const expanded of messages) this.#handle(expanded);
    }
  }

  #handle(message: In): void {
    // A trusted port (a worker reading its node's) lets a throw out, as receive() does.
    if (this.#validate === undefined) return this.handler(message);
    try {
      this.handler(message);
    } catch (error) {
      // A bug in the handler: keep the port's listener, and the process, alive.
      portLog.error({ err: error, remote: this.#remote, type: (message as { type?: unknown }).type }, 'message handler threw');
    }
  }

  protected deliver(batch: Out[]): void {
    this.#port.postMessage(this.#runs === undefined ? batch : this.#runs.pack(batch));
  }
}
