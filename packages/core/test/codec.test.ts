import { describe, expect, it } from 'vitest';
import { ObjectRef, SerializationError, SHARED_THRESHOLD_BYTES, decode, encode, isShared } from '@weft/core';

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
