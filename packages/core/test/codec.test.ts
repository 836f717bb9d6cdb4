import { describe, expect, it } from 'vitest';
import { ObjectRef, SerializationError } from '@weft/core';
import { SHARED_THRESHOLD_BYTES, allocateArray, decode, encode, isShared } from '@weft/protocol';

describe('codec', () => {
  it('round-trips structured values, cycles included', () => {
    const value: Record<string, unknown> = {
      n: 1.5, s: 'text', m: new Map<unknown, unknown>([[1, 'a'], ['k', [1, 2]]]), set: new Set([1, 'x']),
      d: new Date(1_700_000_000_000), big: -(2n ** 80n), nil: null, nested: { deep: [true, false] },
    };
    value.self = value;
    const back = decode(encode(value).data) as Record<string, unknown>;
    expect(back.self).toBe(back);
    expect(back.m).toEqual(value.m);
    expect(back.set).toEqual(value.set);
    expect(back.d).toEqual(value.d);
    expect(back.big).toBe(value.big);
    expect(back.nested).toEqual(value.nested);
  });

  it('decodes every kind of typed array as an aligned view of the frame, not a copy', () => {
    const arrays = [new Float64Array([1.5, -2]), new Int32Array([7, -7]), new Uint8Array([1, 2, 3]), new BigInt64Array([5n]),
      new Float32Array([0.5]), new Uint16Array([65535])];
    const { data } = encode({ arrays, tail: 'after' });
    const back = decode(data) as { arrays: ArrayBufferView[]; tail: string };
    back.arrays.forEach((view, i) => {
      expect(view.constructor).toBe(arrays[i]?.constructor);
      expect(Array.from(view as Float64Array)).toEqual(Array.from(arrays[i] as Float64Array));
      expect(view.buffer).toBe(data.buffer);
    });
    expect(back.tail).toBe('after');
  });

  it('keeps Buffers as Buffers', () => {
    const back = decode(encode(Buffer.from('hello')).data) as Buffer;
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.toString()).toBe('hello');
  });

  it('writes large values into shared memory once and decodes views of it', () => {
    const big = new Float64Array(SHARED_THRESHOLD_BYTES / 8 + 10);
    big[3] = 42;
    const { data } = encode(big);
    expect(isShared(data)).toBe(true);
    const view = decode(data) as Float64Array;
    expect(view.buffer).toBe(data.buffer);
    expect(view[3]).toBe(42);
    // Same memory: a write through the frame shows in the decoded view.
    new Float64Array(data.buffer, view.byteOffset, 4)[3] = 43;
    expect(view[3]).toBe(43);
  });

  it('copies a typed array only when its frame sits at an unaligned offset', () => {
    const { data } = encode(new Float64Array([1, 2, 3]));
    const shifted = new Uint8Array(data.length + 1);
    shifted.set(data, 1);
    const back = decode(shifted.subarray(1)) as Float64Array;
    expect(Array.from(back)).toEqual([1, 2, 3]);
  });

  it('encodes ObjectRefs as refs and lists the ones it contains', () => {
    const ref = new ObjectRef('obj-1');
    const encoded = encode({ a: ref, b: [ref, new ObjectRef('obj-1')] });
    expect(encoded.refs).toEqual(['obj-1']);
    const back = decode(encoded.data) as { a: ObjectRef };
    expect(back.a).toBeInstanceOf(ObjectRef);
    expect(back.a.id).toBe('obj-1');
  });

  it('refuses functions and class instances with an error naming them', () => {
    class Point { x = 1; }
    expect(() => encode({ f: function compute() {} })).toThrow(SerializationError);
    expect(() => encode({ f: function compute() {} })).toThrow(/function \(compute\)/);
    expect(() => encode([new Point()])).toThrow(/class Point/);
  });

  it('rejects corrupt frames with a SerializationError', () => {
    expect(() => decode(new Uint8Array([9, 1, 2]))).toThrow(SerializationError);
    const { data } = encode(new Float64Array([1]));
    expect(() => decode(data.subarray(0, 20))).toThrow(SerializationError);
  });
});

/**
 * A FORMAT_BUFFERS frame made by hand: the buffer table (offset, length per buffer), the msgpack
 * header, then `data` from the first 8-aligned byte after the header.
 */
function rawFrame(header: number[], table: Array<[number, number]>, data: number[] = []): Uint8Array {
  const headerStart = 16 + table.length * 16;
  const dataStart = (headerStart + header.length + 7) & ~7;
  const frame = new Uint8Array(dataStart + data.length);
  const dv = new DataView(frame.buffer);
  frame[0] = 1;
  dv.setUint32(4, header.length, true);
  dv.setUint32(8, table.length, true);
  table.forEach(([offset, length], i) => {
    dv.setFloat64(16 + i * 16, offset, true);
    dv.setFloat64(16 + i * 16 + 8, length, true);
  });
  frame.set(header, headerStart);
  frame.set(data, dataStart);
  return frame;
}

/** msgpack of weft's extension `type` holding the msgpack value `payload`, as msgpackr writes it (fixext 1: d4, type, filler, then the value). */
const ext = (type: number, payload: number[]): number[] => [0xd4, type, 0, ...payload];
/** The typed-array extension: [kind, buffer index] (kind 0: Uint8Array, 8: Float64Array, 11: Buffer). */
const typedRef = (kind: number, index: number): number[] => ext(0x21, [0x92, kind, index]);
/** Where rawFrame puts the data of a frame with one buffer and a header of `headerLength` bytes. */
const dataAt = (headerLength: number): number => (32 + headerLength + 7) & ~7;

function serializationError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('codec on corrupt or hostile frames', () => {
  const header = typedRef(0, 0);
  const at = dataAt(header.length);

  it('decodes a hand-made frame whose buffer table is right', () => {
    const back = decode(rawFrame(header, [[at, 4]], [1, 2, 3, 4])) as Uint8Array;
    expect(Array.from(back)).toEqual([1, 2, 3, 4]);
  });

  it('never returns bytes before the value: offset -32 is a SerializationError', () => {
    const secret = Array.from({ length: 32 }, (_, i) => 200 + (i % 50));
    const frame = rawFrame(header, [[-32, 32]], [1, 2, 3, 4]);
    const buffer = new Uint8Array(32 + frame.length);
    buffer.set(secret, 0);
    buffer.set(frame, 32);
    const error = serializationError(() => decode(buffer.subarray(32)));
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).code).toBe('SERIALIZATION');
  });

  it.each([
    ['a negative offset', -8, 4], ['a NaN offset', Number.NaN, 4], ['a fractional offset', 40.5, 4], ['an infinite offset', Infinity, 4],
    ['an offset past the end', 1_000, 4], ['an offset inside the header', 0, 4], ['a negative length', 40, -4], ['a NaN length', 40, Number.NaN],
    ['a fractional length', 40, 2.5], ['a length past the end', 40, 5], ['a huge length', 40, 2 ** 53], ['an infinite length', 40, Infinity],
  ])('refuses %s with a SerializationError', (_what, offset, length) => {
    const frame = rawFrame(header, [[offset === 40 ? at : offset, length]], [1, 2, 3, 4]);
    expect(serializationError(() => decode(frame))).toBeInstanceOf(SerializationError);
  });

  it('refuses a Float64Array whose length is not a multiple of 8, and kinds and indexes out of range', () => {
    const data = Array.from({ length: 16 }, () => 0);
    const f64 = typedRef(8, 0);
    expect(serializationError(() => decode(rawFrame(f64, [[dataAt(f64.length), 12]], data)))).toBeInstanceOf(SerializationError);
    for (const bad of [typedRef(12, 0), typedRef(0xff, 0), typedRef(0, 1), typedRef(0, 0xff), ext(0x21, [0x92, 0xa1, 0x78, 0]),
      ext(0x21, [0x92, 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 0]), ext(0x21, [0x05]), ext(0x22, [0xa1, 0x78]), ext(0x22, [0xff])]) {
      expect(serializationError(() => decode(rawFrame(bad, [[dataAt(bad.length), 8]], data))), JSON.stringify(bad)).toBeInstanceOf(SerializationError);
    }
  });

  it('refuses a buffer count or header length past the end of the frame', () => {
    const frame = rawFrame(header, [[at, 4]], [1, 2, 3, 4]);
    const dv = new DataView(frame.buffer);
    dv.setUint32(8, 0xffff_ffff, true);
    expect(serializationError(() => decode(frame))).toBeInstanceOf(SerializationError);
    const other = rawFrame(header, [[at, 4]], [1, 2, 3, 4]);
    new DataView(other.buffer).setUint32(4, 0xffff_ffff, true);
    expect(serializationError(() => decode(other))).toBeInstanceOf(SerializationError);
  });

  it('refuses malformed ObjectRef and actor handle extensions, and msgpack that does not decode', () => {
    const plain = (bytes: number[]): Uint8Array => new Uint8Array([0, ...bytes]);
    for (const frame of [plain(ext(0x20, [0x05])), plain(ext(0x20, [0x92, 1, 2])), plain(ext(0x20, [0xc0])), plain(ext(0x23, [0xa1, 0x78])),
      plain(ext(0x23, [0x92, 1, 2])), plain([0xc7, 3, 0x21, 0x92, 0, 0]), plain([0xa5, 0x61]), plain([0x92, 1]), plain([0xdd, 0xff, 0xff, 0xff, 0xff]), new Uint8Array(0)]) {
      expect(serializationError(() => decode(frame)), JSON.stringify(Array.from(frame))).toBeInstanceOf(SerializationError);
    }
  });
});

describe('arrays built in place (alloc)', () => {
  it('encodes an allocated array as a frame over its own memory, once; later encodes copy', () => {
    const array = allocateArray(Float64Array, 300_000);
    expect(array).toBeInstanceOf(Float64Array);
    expect(isShared(new Uint8Array(array.buffer))).toBe(true);
    expect(array.every((x) => x === 0)).toBe(true);
    array.fill(1.5);
    const first = encode(array).data;
    expect(first.buffer).toBe(array.buffer);
    expect(first.byteOffset + first.byteLength).toBe(array.byteOffset + array.byteLength);
    const back = decode(first) as Float64Array;
    expect(back.buffer).toBe(array.buffer); // a view, no copy either way
    expect(back.byteOffset).toBe(array.byteOffset);
    expect(back.length).toBe(300_000);
    expect(back[299_999]).toBe(1.5);
    // The memory is the first frame's now: a second encode must not overwrite its header.
    const second = encode({ again: array }).data;
    expect(second.buffer).not.toBe(array.buffer);
    expect((decode(second) as { again: Float64Array }).again[0]).toBe(1.5);
    expect((decode(first) as Float64Array)[0]).toBe(1.5);
  });

  it('places a value holding one allocated array with a small header too, and copies values with more buffers', () => {
    const array = allocateArray(Int32Array, 10);
    array.set([1, 2, 3]);
    const frame = encode({ name: 'prices', data: array, meta: new Map([['n', 10]]) }).data;
    expect(frame.buffer).toBe(array.buffer);
    expect(decode(frame)).toEqual({ name: 'prices', data: Int32Array.from([1, 2, 3, 0, 0, 0, 0, 0, 0, 0]), meta: new Map([['n', 10]]) });
    // A length that is not a multiple of 8 ends the frame with the array.
    const odd = allocateArray(Uint8Array, 11).fill(3);
    const oddFrame = encode(odd).data;
    expect(oddFrame.buffer).toBe(odd.buffer);
    expect(decode(oddFrame)).toEqual(new Uint8Array(11).fill(3));
    const a = allocateArray(Uint8Array, 8);
    const b = allocateArray(Uint8Array, 8);
    const both = encode([a, b]).data;
    expect(both.buffer).not.toBe(a.buffer);
    expect(both.buffer).not.toBe(b.buffer);
    // A part of an allocated array is not the whole region: copied.
    const c = allocateArray(Float64Array, 16);
    expect(encode(c.subarray(2)).data.buffer).not.toBe(c.buffer);
    expect(encode(c).data.buffer).toBe(c.buffer);
  });

  it('refuses what it cannot make, naming the argument', () => {
    expect(() => allocateArray(Buffer as never, 4)).toThrow(TypeError);
    expect(() => allocateArray(Array as never, 4)).toThrow(/typed arrays/);
    expect(() => allocateArray(Float64Array, -1)).toThrow(RangeError);
    expect(() => allocateArray(Float64Array, 1.5)).toThrow(/whole number/);
  });
});
