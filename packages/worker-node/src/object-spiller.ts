/**
 * Keeps the object store under its capacity. When the bytes held pass it, the oldest large
 * values go: a copy of an object owned by another node is dropped (it can be fetched again);
 * anything else is written to local disk and its memory released, and read back transparently
 * when someone needs it. Only when the disk cannot take it either does a value fail, with
 * ObjectStoreFullError saying how much was needed and how much was free.
 */
import { mkdirSync, rmSync, statfsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ERROR_CODES, SHARED_THRESHOLD_BYTES, allocateFrame, logger } from '@weft/protocol';
import type { ObjectEntry, ObjectStore } from './object-store.ts';
import { fileFor } from './safe-path.ts';

/** Disk space left free, whatever is spilled. */
const DISK_RESERVE_BYTES = 256 * 1024 * 1024;

export class ObjectSpiller {
  readonly #dir: string;
  #spilling = false;
  readonly #restoring = new Set<string>();
  readonly #log = logger('object-spiller');

  constructor(private readonly store: ObjectStore, readonly capacity: number, dir: string, private readonly selfId: string) {
    this.#dir = dir;
  }

  /** Bytes of values held in memory beyond the capacity. */
  over(): number {
    return this.store.stats().bytes - this.capacity;
  }

  /** Called after a value was stored: make room if the store is over capacity. */
  check(): void {
    if (this.#spilling || this.over() <= 0) return;
    this.#spilling = true;
    void this.#makeRoom().finally(() => {
      this.#spilling = false;
    });
  }

  async #makeRoom(): Promise<void> {
    while (this.over() > 0) {
      const victim = this.#oldestLarge();
      if (!victim) return;
      await this.#spill(victim);
    }
  }

  #oldestLarge(): ObjectEntry | undefined {
    let oldest: ObjectEntry | undefined;
    for (const entry of this.store.entries()) {
      const result = entry.result;
      if (result?.status !== 'ok' || result.value.data.byteLength < SHARED_THRESHOLD_BYTES || entry.waiters.length > 0) continue;
      if (!oldest || entry.touched < oldest.touched) oldest = entry;
    }
    return oldest;
  }

  async #spill(entry: ObjectEntry): Promise<void> {
    const result = entry.result;
    if (result?.status !== 'ok') return;
    const size = result.value.data.byteLength;
    if (entry.owner !== undefined && entry.owner !== this.selfId && !entry.holders.has(`peer:${entry.owner}`)) {
      // A copy: its owner has the object (it keeps it while this node borrows it), fetch it again
      // if needed. (Held by its owner, it is no copy but the bytes a task made here for it.)
      this.store.dropCopy(entry);
      return;
    }
    if (entry.disk) {
      // Spilled before and read back since: the file still holds its bytes.
      this.store.spilled(entry, entry.disk);
      return;
    }
    const file = fileFor(this.#dir, entry.id);
    try {
      mkdirSync(this.#dir, { recursive: true });
      const free = diskFree(this.#dir);
      if (free - size < DISK_RESERVE_BYTES) {
        throw Object.assign(new Error(`object store full: ${mb(size)} needed on disk, ${mb(Math.max(0, free - DISK_RESERVE_BYTES))} free in ${this.#dir}`), { full: true });
      }
      await writeFile(file, result.value.data);
    } catch (error) {
      const full = (error as { full?: boolean }).full === true;
      this.#log.error({ err: error, objectId: entry.id }, 'cannot spill an object to disk');
      // Fail the newest value rather than lose an old one: the store cannot hold it.
      const newest = this.#newestLarge();
      if (newest && full) {
        this.store.replace(newest, { status: 'error', error: { code: ERROR_CODES.OBJECT_STORE_FULL,
          message: `object store full: object ${newest.id} needed ${mb(sizeOf(newest))}; memory holds ${mb(this.store.stats().bytes)} of ${mb(this.capacity)} `
            + `and the disk at ${this.#dir} has ${mb(Math.max(0, diskFree(this.#dir) - DISK_RESERVE_BYTES))} free; free objects (drop refs), or raise objectStoreMemory` } });
      }
      return;
    }
    if (this.store.get(entry.id) !== entry || entry.result !== result) {
      await rm(file, { force: true }); // freed or replaced while it was being written
      return;
    }
    this.store.spilled(entry, { path: file, size, ...(result.value.refs ? { refs: result.value.refs } : {}) });
    this.#log.debug({ objectId: entry.id, bytes: size }, 'spilled object to disk');
  }

  #newestLarge(): ObjectEntry | undefined {
    let newest: ObjectEntry | undefined;
    for (const entry of this.store.entries()) {
      if (entry.result?.status === 'ok' && sizeOf(entry) >= SHARED_THRESHOLD_BYTES && (!newest || entry.seq > newest.seq)) newest = entry;
    }
    return newest;
  }

  /** Read a spilled value back into memory (shared memory when large). */
  restore(entry: ObjectEntry): void {
    const spilled = entry.spilled;
    if (!spilled || this.#restoring.has(entry.id)) return;
    this.#restoring.add(entry.id);
    void readFile(spilled.path).then((bytes) => {
      const data = allocateFrame(bytes.byteLength);
      data.set(bytes);
      // The file stays until the entry is freed: removing it here raced with spilling it again.
      this.store.restored(entry, { status: 'ok', value: spilled.refs ? { data, refs: spilled.refs } : { data } });
      this.check();
    }, (error: unknown) => {
      this.store.replace(entry, { status: 'error', error: { code: ERROR_CODES.OBJECT_LOST,
        message: `object ${entry.id} was spilled to ${spilled.path} and cannot be read back: ${error instanceof Error ? error.message : String(error)}` } });
    }).finally(() => this.#restoring.delete(entry.id));
  }

  /** An entry was freed: remove its file, if it has one. */
  forget(entry: ObjectEntry): void {
    if (entry.disk) void rm(entry.disk.path, { force: true });
  }

  /** Remove every spilled file (the node stops). */
  clear(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

function sizeOf(entry: ObjectEntry): number {
  return entry.result?.status === 'ok' ? entry.result.value.data.byteLength : 0;
}

function diskFree(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
