/**
 * Acknowledgements owed to remote drivers. A driver keeps each message it sent until the node
 * says it handled it (`received`, a count: see ReconnectingConnection), so the count only has to
 * arrive eventually, not at once. Sent at once, it was a frame of its own for nearly every frame
 * of the driver: in a sequential submit-and-get, a second wake-up of the driver (and a second
 * socket write here) per call, while the task ran. Owed counts ride in front of the next message
 * to that driver, in its frame, or go after ACK_DELAY_MS when nothing else does.
 */

/** Longest a count is held back when no message goes to the driver. */
export const ACK_DELAY_MS = 20;

export class DriverAcks {
  readonly #owed = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  /** `send` sends the driver's current count. */
  constructor(private readonly send: (clientId: string) => void, private readonly delayMs = ACK_DELAY_MS) {}

  /** A message of `clientId` was handled: its count is owed. */
  owe(clientId: string): void {
    this.#owed.add(clientId);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#flush, this.delayMs);
      this.#timer.unref();
    }
  }

  /** A message goes to `clientId`: whether its count is owed (the caller sends it in front), which is then settled. */
  take(clientId: string): boolean {
    return this.#owed.delete(clientId);
  }

  /** The driver is gone: nothing is owed to it. */
  drop(clientId: string): void {
    this.#owed.delete(clientId);
  }

  /** Cancels the timer; what is owed is not sent. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#owed.clear();
  }

  readonly #flush = (): void => {
    this.#timer = undefined;
    const owed = [...this.#owed];
    this.#owed.clear();
    for (const clientId of owed) this.send(clientId);
  };
}
