/**
 * Transports for protocol messages. Each batches what is sent in one turn of the event loop
 * into one delivery (see batcher.ts).
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { MicrotaskBatcher } from './batcher.ts';

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
  readonly #batch = new MicrotaskBatcher<Out>(() => {
    const batch = this.#batch.take();
    if (!this.closed && batch.length > 0) this.deliver(batch);
  });
  protected handler: (message: In) => void = () => {};
  protected closeHandler: (reason: string) => void = () => {};
  protected closed = false;

  send(message: Out): void {
    if (!this.closed) this.#batch.push(message);
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

/** A connection over a worker_thread's MessagePort (or the Worker object on the parent side). */
export class PortConnection<In, Out> extends BatchingConnection<In, Out> {
  readonly #port: MessagePort | Worker;
  constructor(port: MessagePort | Worker) {
    super();
    this.#port = port;
    port.on('message', (batch: In[]) => this.receive(batch));
  }
  protected deliver(batch: Out[]): void {
    this.#port.postMessage(batch);
  }
}
