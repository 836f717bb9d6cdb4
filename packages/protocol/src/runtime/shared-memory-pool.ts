/**
 * Shared memory made ready ahead of need. A new SharedArrayBuffer costs nothing to create, but
 * the first write to each of its pages faults the page in, and on this kind of VM that costs
 * ~11 µs a page: 100 MB of fresh memory is ~280 ms before a byte is copied, against ~6 ms for
 * the copy itself. Like Ray's plasma store, which maps its memory with MAP_POPULATE, the pool
 * touches the pages of fresh buffers ahead of time, in a helper thread, off the hot path.
 *
 * Buffers are never recycled: a freed object's memory may still be viewed by some task or by
 * the driver (views are not counted), so only fresh, never-exposed buffers sit in the pool.
 * After a buffer of some size is taken, another of that size is prepared for the next put, up
 * to MAX_POOL_BYTES in all; buffers unused for IDLE_MS are dropped.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/** Total bytes held ready at most. */
const MAX_POOL_BYTES = Math.min(1024 ** 3, Math.floor(os.totalmem() * 0.05));
/** A ready buffer unused this long is dropped. */
const IDLE_MS = 30_000;
/** Buffers of one size prepared ahead at most. */
const MAX_AHEAD_PER_SIZE = 2;
/** Buffers are prepared in sizes rounded up to this. */
const GRANULE_BYTES = 1024 * 1024;
/** Below this, faults are cheap enough not to bother. */
export const POOL_MIN_BYTES = 512 * 1024;

const TOUCH_PAGES = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (sab) => {
  const bytes = new Uint8Array(sab);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 0;
  parentPort.postMessage(sab.byteLength);
});`;

interface Ready {
  buffer: SharedArrayBuffer;
  since: number;
}

export class SharedMemoryPool {
  readonly #ready: Ready[] = [];
  #readyBytes = 0;
  #preparingBytes = 0;
  readonly #toucher: Worker;
  readonly #inFlight: SharedArrayBuffer[] = [];
  readonly #sweep: NodeJS.Timeout;

  constructor() {
    this.#toucher = new Worker(TOUCH_PAGES, { eval: true, execArgv: [] });
    this.#toucher.unref();
    this.#toucher.on('message', () => {
      const buffer = this.#inFlight.shift();
      if (!buffer) return;
      this.#preparingBytes -= buffer.byteLength;
      this.#ready.push({ buffer, since: Date.now() });
      this.#readyBytes += buffer.byteLength;
    });
    this.#sweep = setInterval(() => this.#dropIdle(), IDLE_MS);
    this.#sweep.unref();
  }

  /** A buffer of at least `size` bytes for a frame: a prepared one if any fits, else a fresh one. */
  take(size: number): Uint8Array {
    const rounded = Math.ceil(size / GRANULE_BYTES) * GRANULE_BYTES;
    let index = -1;
    for (let i = 0; i < this.#ready.length; i++) {
      const length = (this.#ready[i] as Ready).buffer.byteLength;
      // Close fits only, so that a small object does not sit on a large buffer.
      if (length >= size && length <= rounded * 1.25 + GRANULE_BYTES) {
        index = i;
        break;
      }
    }
    let buffer: SharedArrayBuffer;
    if (index >= 0) {
      buffer = (this.#ready.splice(index, 1)[0] as Ready).buffer;
      this.#readyBytes -= buffer.byteLength;
    } else {
      buffer = new SharedArrayBuffer(rounded);
    }
    this.#prepare(rounded);
    return new Uint8Array(buffer, 0, size);
  }

  #prepare(size: number): void {
    if (this.#readyBytes + this.#preparingBytes + size > MAX_POOL_BYTES) return;
    // One buffer of a size ahead is enough for a steady stream of puts of that size; more would
    // keep the helper thread faulting pages (taking a CPU from tasks) for buffers nobody takes.
    const same = this.#ready.filter((ready) => ready.buffer.byteLength === size).length
      + this.#inFlight.filter((buffer) => buffer.byteLength === size).length;
    if (same >= MAX_AHEAD_PER_SIZE) return;
    const buffer = new SharedArrayBuffer(size);
    this.#preparingBytes += size;
    this.#inFlight.push(buffer);
    this.#toucher.postMessage(buffer);
  }

  #dropIdle(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (let i = this.#ready.length - 1; i >= 0; i--) {
      const ready = this.#ready[i] as Ready;
      if (ready.since < cutoff) {
        this.#ready.splice(i, 1);
        this.#readyBytes -= ready.buffer.byteLength;
      }
    }
  }

  /** Stop the helper thread and drop every prepared buffer. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#ready.length = 0;
    this.#readyBytes = 0;
    await this.#toucher.terminate();
  }
}
