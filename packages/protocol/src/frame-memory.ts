/**
 * Where frames get their memory: shared memory when large, so that every thread of the process
 * reads a value where it is. Apart from the codec (codec.ts re-exports it) so that the transports
 * can take memory for large values without loading the codec's msgpackr extensions.
 */

/** Values whose frame reaches this size live in shared memory. @default 100 KiB */
export const SHARED_THRESHOLD_BYTES = 100 * 1024;

/** Where large frames get their shared memory; replaced by a pool in the node's process. */
let sharedAllocator: (size: number) => Uint8Array = (size) => new Uint8Array(new SharedArrayBuffer(size));

/** @internal Route shared-memory allocations (undefined: fresh buffers). */
export function setSharedAllocator(allocator: ((size: number) => Uint8Array) | undefined): void {
  sharedAllocator = allocator ?? ((size) => new Uint8Array(new SharedArrayBuffer(size)));
}

/** A buffer for a frame of `size` bytes: shared memory when large (from the pool where there is one). */
export function allocateFrame(size: number): Uint8Array {
  return allocate(size, true);
}

/** A buffer of `size` bytes; shared memory (from the allocator) only when `shared` and large. */
export function allocate(size: number, shared: boolean): Uint8Array {
  return shared && size >= SHARED_THRESHOLD_BYTES ? sharedAllocator(size) : new Uint8Array(size);
}
