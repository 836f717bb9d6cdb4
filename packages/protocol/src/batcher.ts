/**
 * Collects what is sent in one turn of the event loop and hands it over once, at the end of the
 * turn (a microtask): postMessage and socket writes cost far more per call than per byte, and a
 * driver submitting thousands of tasks sends them in a burst.
 */
export class MicrotaskBatcher<T> {
  #items: T[] = [];
  #scheduled = false;

  /** `flush` runs once per turn in which something was pushed; it calls `take()`. */
  constructor(private readonly flush: () => void) {}

  push(item: T): void {
    this.#items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  /** What was collected since the last take. */
  take(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  get size(): number {
    return this.#items.length;
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
