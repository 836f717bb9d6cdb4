/**
 * The value codec: msgpackr with structured cloning (Map, Set, Date, BigInt, Error, cycles),
 * plus weft's extensions for ObjectRef, typed arrays and a clear error for what cannot be sent.
 *
 * Frame layout. Typed arrays and Buffers travel out of band, after the msgpack header, each at an
 * offset aligned to 8 bytes from the frame's start, so that decoding makes a view over the frame
 * (a Float64Array needs an aligned offset; msgpackr's own binary decoding lands anywhere):
 *
 *   byte 0: FORMAT_PLAIN (0) — msgpack follows from byte 1; no out-of-band buffers
 *   byte 0: FORMAT_BUFFERS (1)
 *     u32 @4 header length, u32 @8 buffer count, then from byte 16 one (f64 offset, f64 length)
 *     per buffer, then the msgpack header, then the buffers, each 8-aligned.
 *
 * Frames of SHARED_THRESHOLD_BYTES or more are written straight into a SharedArrayBuffer: the
 * one copy of a large array is the copy into shared memory, and every thread that decodes it
 * gets views of that memory.
 */
import { Packr, addExtension } from 'msgpackr';
import { ObjectRef, assertCurrent } from './object-ref.ts';
import { ActorHandleBase, handleFromWire } from './actor-handle-base.ts';
import { SerializationError } from './errors.ts';
import { SHARED_THRESHOLD_BYTES, allocate } from './frame-memory.ts';

export { SHARED_THRESHOLD_BYTES, allocateFrame, setSharedAllocator } from './frame-memory.ts';

const FORMAT_PLAIN = 0;
const FORMAT_BUFFERS = 1;
const TABLE_OFFSET = 16;
const EXT_OBJECT_REF = 0x20;
const EXT_TYPED_ARRAY = 0x21;
const EXT_ARRAY_BUFFER = 0x22;
const EXT_ACTOR_HANDLE = 0x23;
/** Opens the message of a stale ref met while encoding; encodeArgs puts the call's name in its place. */
export const SENDING_A_VALUE = 'sending a value';

const TYPED_ARRAY_KINDS = [Uint8Array, Int8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, Buffer] as const;
const KIND_BUFFER = TYPED_ARRAY_KINDS.length - 1;
const TypedArray = Object.getPrototypeOf(Uint8Array) as abstract new () => ArrayBufferView;

/** A value as it is stored and sent. */
export interface EncodedValue {
  /** The frame. May be a view over a SharedArrayBuffer. */
  data: Uint8Array;
  /** Ids of the ObjectRefs nested in the value, each once. Absent when there are none. */
  refs?: string[];
}

// Encoding and decoding are synchronous, so one context per direction is enough; it is saved and
// restored around each call in case an extension ever re-enters.
let encodeBuffers: ArrayBufferView[] | null = null;
let encodeRefs: string[] | null = null;
let decodeFrame: Uint8Array | null = null;
let decodeTable: Float64Array | null = null;
/**
 * Values being decoded by decode() (nested calls count). msgpackr's extensions are global, so the
 * transport's decoding of messages meets them too: there an ObjectRef or an actor handle (whose
 * constructors have effects: ref counting) is refused, as the buffer references are.
 */
let decoding = 0;


/** Matches what cannot be sent: functions and instances of user classes. */
class Unserializable {
  static [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value === 'function') return true;
    if (typeof value !== 'object' || value === null) return false;
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === null || proto === Object.prototype) return false;
    return !(value instanceof Date || value instanceof Set || value instanceof Map || value instanceof Error
      || value instanceof RegExp || value instanceof ArrayBuffer || ArrayBuffer.isView(value)
      || value instanceof ObjectRef || value instanceof ActorHandleBase || Array.isArray(value));
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
  return `an instance of class ${name}`;
}

// Registered first so that it is checked after weft's own extensions (addExtension prepends)
// and before msgpackr's built-ins, which only ever see the classes Unserializable lets through.
addExtension({
  Class: Unserializable as unknown as new () => unknown,
  write(value: unknown): never {
    throw new SerializationError(`cannot send ${describe(value)}: functions and class instances `
      + 'cannot cross to another worker or machine; pass plain data (objects, arrays, typed arrays, '
      + 'Map, Set, Date), an ObjectRef, or an actor handle instead');
  },
});

addExtension({
  Class: ObjectRef,
  type: EXT_OBJECT_REF,
  write(ref: ObjectRef) {
    // Checked here, where every ref that leaves this thread passes (nested in arguments, in put()
    // values, in results): the node must never hear of an object of a runtime that was shut down.
    assertCurrent(ref, SENDING_A_VALUE);
    encodeRefs?.push(ref.id);
    return ref.owner === undefined ? ref.id : [ref.id, ref.owner];
  },
  read(wire: unknown) {
    if (decoding === 0) throw new SerializationError('corrupt frame: an ObjectRef outside a value');
    if (typeof wire === 'string') return new ObjectRef(wire);
    if (!isStringPair(wire)) throw new SerializationError('corrupt frame: an ObjectRef must be an id or [id, owner]');
    return new ObjectRef(wire[0], wire[1]);
  },
});

addExtension({
  Class: ActorHandleBase,
  type: EXT_ACTOR_HANDLE,
  write(handle: ActorHandleBase) {
    return [handle.actorId, handle.className];
  },
  read(wire: unknown) {
    if (decoding === 0) throw new SerializationError('corrupt frame: an actor handle outside a value');
    if (!isStringPair(wire)) throw new SerializationError('corrupt frame: an actor handle must be [actorId, className]');
    return handleFromWire(wire[0], wire[1]);
  },
});

// msgpackr's extensions are global, and the transport packs messages (whose Uint8Array fields
// must stay plain msgpack binary) with another Packr: these two match only inside encode().
class CodecView {
  static [Symbol.hasInstance](value: unknown): boolean {
    return encodeBuffers !== null && value instanceof TypedArray;
  }
}
class CodecArrayBuffer {
  static [Symbol.hasInstance](value: unknown): boolean {
    return encodeBuffers !== null && value instanceof ArrayBuffer;
  }
}

addExtension({
  Class: CodecView as unknown as new () => ArrayBufferView,
  type: EXT_TYPED_ARRAY,
  write(view: ArrayBufferView) {
    const kind = Buffer.isBuffer(view) ? KIND_BUFFER : TYPED_ARRAY_KINDS.findIndex((k) => view.constructor === k);
    if (kind < 0) throw new SerializationError(`cannot send a ${view.constructor.name}: unsupported typed array`);
    if (!encodeBuffers) throw new SerializationError('typed arrays can only be encoded through weft\'s codec');
    encodeBuffers.push(view);
    return [kind, encodeBuffers.length - 1];
  },
  read(wire: unknown) {
    if (!Array.isArray(wire) || wire.length !== 2) throw new SerializationError('corrupt frame: a typed array must be [kind, index]');
    return typedArrayView(wire[0], wire[1]);
  },
});

addExtension({
  Class: CodecArrayBuffer as unknown as new () => ArrayBuffer,
  type: EXT_ARRAY_BUFFER,
  write(buffer: ArrayBuffer) {
    if (!encodeBuffers) throw new SerializationError('ArrayBuffers can only be encoded through weft\'s codec');
    encodeBuffers.push(new Uint8Array(buffer));
    return encodeBuffers.length - 1;
  },
  read(index: unknown) {
    // An ArrayBuffer cannot be a view of another buffer: this one is copied.
    const view = typedArrayView(0, index) as Uint8Array;
    return view.slice().buffer;
  },
});

const isStringPair = (wire: unknown): wire is [string, string] =>
  Array.isArray(wire) && wire.length === 2 && typeof wire[0] === 'string' && typeof wire[1] === 'string';

/**
 * The typed array `index` of the buffer table of the frame being decoded. The table's offsets and
 * lengths were checked by decode(); the kind and index come from the header and are checked here.
 */
function typedArrayView(kind: unknown, index: unknown): ArrayBufferView {
  const frame = decodeFrame;
  const table = decodeTable;
  if (!frame || !table || !Number.isSafeInteger(kind) || (kind as number) < 0 || (kind as number) >= TYPED_ARRAY_KINDS.length) {
    throw new SerializationError('corrupt frame: bad typed array reference');
  }
  if (!Number.isSafeInteger(index) || (index as number) < 0 || (index as number) * 2 >= table.length) {
    throw new SerializationError('corrupt frame: buffer index out of range');
  }
  const Kind = TYPED_ARRAY_KINDS[kind as number]!;
  const offset = table[(index as number) * 2]!;
  const length = table[(index as number) * 2 + 1]!;
  const start = frame.byteOffset + offset;
  if (kind === KIND_BUFFER) return Buffer.from(frame.buffer, start, length);
  const size = (Kind as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (length % size !== 0) throw new SerializationError(`corrupt frame: ${length} bytes are not a whole number of ${Kind.name} elements`);
  if (start % size === 0) return new (Kind as unknown as new (b: ArrayBufferLike, o: number, l: number) => ArrayBufferView)(frame.buffer, start, length / size);
  // The frame itself sits at an unaligned offset (a network buffer): copy this one array.
  const copy = new Uint8Array(length);
  copy.set(frame.subarray(offset, offset + length));
  return new (Kind as unknown as new (b: ArrayBufferLike) => ArrayBufferView)(copy.buffer);
}

const packr = new Packr({ structuredClone: true });

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Encode a value into a frame. Throws SerializationError for functions and class instances.
 * @param shared put frames of SHARED_THRESHOLD_BYTES or more in shared memory. @default true
 */
export function encode(value: unknown, shared = true): EncodedValue {
  const savedBuffers = encodeBuffers;
  const savedRefs = encodeRefs;
  const buffers: ArrayBufferView[] = [];
  const refs: string[] = [];
  encodeBuffers = buffers;
  encodeRefs = refs;
  let header: Uint8Array;
  try {
    header = packr.pack(value);
  } finally {
    encodeBuffers = savedBuffers;
    encodeRefs = savedRefs;
  }
  const data = buffers.length === 0 ? plainFrame(header, shared) : bufferFrame(header, buffers, shared);
  return refs.length === 0 ? { data } : { data, refs: refs.length === 1 ? refs : [...new Set(refs)] };
}

function plainFrame(header: Uint8Array, shared: boolean): Uint8Array {
  const frame = allocate(header.length + 1, shared);
  frame[0] = FORMAT_PLAIN;
  frame.set(header, 1);
  return frame;
}

/** Room before an array made by allocateArray for the frame header that put() writes there. */
const IN_PLACE_PREFIX_BYTES = 4096;

/** Where an array made by allocateArray starts in its buffer, its bytes, and whether a frame took it already. */
interface InPlace {
  readonly dataStart: number;
  readonly bytes: number;
  taken: boolean;
}

/** Arrays made by allocateArray, by their buffer (each has a buffer of its own). */
const inPlace = new WeakMap<ArrayBufferLike, InPlace>();

/** The typed array classes allocateArray makes. */
export type AllocatableArray = Uint8Array | Int8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;
export type AllocatableKind<T extends AllocatableArray> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

/**
 * A typed array of `length` elements (zeroed) that a later encode of it (a put, or an argument)
 * turns into a frame without copying: its memory has room for the frame's header before it, and
 * is shared memory when large. The first frame takes the memory: the array then is the stored
 * value's memory (writing to it changes what readers see), and later encodes of it copy.
 */
export function allocateArray<T extends AllocatableArray>(Kind: AllocatableKind<T>, length: number): T {
  if (!TYPED_ARRAY_KINDS.includes(Kind as never) || (Kind as unknown) === Buffer) {
    throw new TypeError(`alloc() makes typed arrays (Float64Array, Int32Array, Uint8Array, …), got ${String((Kind as { name?: string })?.name ?? Kind)}`);
  }
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`alloc() length must be a whole number >= 0, got ${String(length)}`);
  const bytes = length * Kind.BYTES_PER_ELEMENT;
  const region = allocate(IN_PLACE_PREFIX_BYTES + bytes, true);
  const dataStart = region.byteOffset + IN_PLACE_PREFIX_BYTES;
  inPlace.set(region.buffer, { dataStart, bytes, taken: false });
  // Zeroed already: fresh memory, or a pool's fresh buffer whose pages were touched with zeros.
  return new Kind(region.buffer, dataStart, length);
}

/**
 * The frame of a value whose one buffer is an array from allocateArray, written in the room before
 * the array (no copy of its bytes); undefined when the value does not qualify.
 */
function inPlaceFrame(header: Uint8Array, buffers: ArrayBufferView[], shared: boolean): Uint8Array | undefined {
  if (buffers.length !== 1) return undefined;
  const view = buffers[0] as ArrayBufferView;
  const entry = inPlace.get(view.buffer);
  if (!entry || entry.taken || view.byteOffset !== entry.dataStart || view.byteLength !== entry.bytes) return undefined;
  if (!shared && view.buffer instanceof SharedArrayBuffer) return undefined;
  const { offsets } = layout(header, buffers);
  const dataOffset = offsets[0] as number;
  if (dataOffset > IN_PLACE_PREFIX_BYTES) return undefined;
  entry.taken = true;
  // The room before the array is fresh memory (zeros), taken once: only the head is written.
  const frame = new Uint8Array(view.buffer, entry.dataStart - dataOffset, dataOffset + entry.bytes);
  writeHead(frame, header, buffers, offsets);
  return frame;
}

/** Where each buffer of a frame goes (8-aligned, after the table and the header), and the frame's size. */
function layout(header: Uint8Array, buffers: ArrayBufferView[]): { offsets: number[]; size: number } {
  let size = align8(TABLE_OFFSET + buffers.length * 16 + header.length);
  const offsets: number[] = [];
  for (const view of buffers) {
    offsets.push(size);
    size = align8(size + view.byteLength);
  }
  return { offsets, size };
}

/** Write a frame's format, lengths, buffer table and msgpack header (not the buffers). */
function writeHead(frame: Uint8Array, header: Uint8Array, buffers: ArrayBufferView[], offsets: number[]): void {
  const dv = new DataView(frame.buffer, frame.byteOffset, TABLE_OFFSET + buffers.length * 16);
  frame[0] = FORMAT_BUFFERS;
  dv.setUint32(4, header.length, true);
  dv.setUint32(8, buffers.length, true);
  buffers.forEach((view, i) => {
    dv.setFloat64(TABLE_OFFSET + i * 16, offsets[i] as number, true);
    dv.setFloat64(TABLE_OFFSET + i * 16 + 8, view.byteLength, true);
  });
  frame.set(header, TABLE_OFFSET + buffers.length * 16);
}

function bufferFrame(header: Uint8Array, buffers: ArrayBufferView[], shared: boolean): Uint8Array {
  const placed = inPlaceFrame(header, buffers, shared);
  if (placed) return placed;
  const { offsets, size } = layout(header, buffers);
  const frame = allocate(size, shared);
  writeHead(frame, header, buffers, offsets);
  buffers.forEach((view, i) => frame.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), offsets[i] as number));
  return frame;
}

/**
 * Decode a frame. Typed arrays in it are views of `frame` (when aligned), not copies. A frame that
 * is not one encode() could have made (a buffer table pointing outside the frame or into its
 * header, msgpack that does not decode, a malformed extension) throws SerializationError: a view
 * never reaches bytes outside the frame, even when the frame is a view of a larger buffer.
 */
export function decode(frame: Uint8Array): unknown {
  decoding += 1;
  try {
    return decodeChecked(frame);
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    throw new SerializationError(`corrupt frame: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
  } finally {
    decoding -= 1;
  }
}

function decodeChecked(frame: Uint8Array): unknown {
  const format = frame[0];
  if (format === FORMAT_PLAIN) return packr.unpack(frame.subarray(1));
  if (format !== FORMAT_BUFFERS || frame.length < TABLE_OFFSET) throw new SerializationError('corrupt frame: unknown format');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = dv.getUint32(4, true);
  const count = dv.getUint32(8, true);
  const headerStart = TABLE_OFFSET + count * 16;
  const headerEnd = headerStart + headerLength;
  if (headerEnd > frame.length) throw new SerializationError('corrupt frame: header past the end');
  const table = new Float64Array(count * 2);
  for (let i = 0; i < count; i++) {
    const offset = dv.getFloat64(TABLE_OFFSET + i * 16, true);
    const length = dv.getFloat64(TABLE_OFFSET + i * 16 + 8, true);
    // Whole numbers only (NaN, fractions and infinities fail isSafeInteger), after the header and
    // within the frame: encode() puts each buffer there.
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < headerEnd || length < 0 || offset + length > frame.length) {
      throw new SerializationError(`corrupt frame: buffer ${i} (offset ${offset}, length ${length}) is not within the frame's ${frame.length} bytes after its header`);
    }
    table[i * 2] = offset;
    table[i * 2 + 1] = length;
  }
  const savedFrame = decodeFrame;
  const savedTable = decodeTable;
  decodeFrame = frame;
  decodeTable = table;
  try {
    return packr.unpack(frame.subarray(headerStart, headerEnd));
  } finally {
    decodeFrame = savedFrame;
    decodeTable = savedTable;
  }
}

/** Whether a frame lives in shared memory. */
export function isShared(frame: Uint8Array): boolean {
  return frame.buffer instanceof SharedArrayBuffer;
}

