import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectRef, get, getRuntimeContext, init, put, shutdown, wait } from '@weft/core';
import { add, context, describeArg, fib, identity, sumArray } from '../fixtures/basic-tasks.ts';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

describe('remote functions on the embedded cluster', () => {
  it('runs a task and returns its value through get', async () => {
    const ref = add.remote(1, 2);
    expect(ref).toBeInstanceOf(ObjectRef);
    expect(await get(ref)).toBe(3);
  });

  it('returns values in order for a list of refs', async () => {
    const refs = Array.from({ length: 50 }, (_, i) => add.remote(i, i));
    expect(await get(refs)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
  });

  it('resolves top-level ref arguments and keeps nested refs as refs', async () => {
    const a = add.remote(1, 2);
    expect(await get(add.remote(a, 10))).toBe(13);
    expect(await get(describeArg.remote(a))).toEqual({ isRef: false, type: 'number' });
    const nested = (await get(identity.remote({ inner: a }))) as { inner: unknown };
    expect(nested.inner).toBeInstanceOf(ObjectRef);
    expect(await get(nested.inner as ObjectRef<number>)).toBe(3);
  });

  it('round-trips structured values', async () => {
    const value = { m: new Map([[1, 'a']]), s: new Set([1, 2]), d: new Date(86_400_000), big: 2n ** 70n, f: new Float32Array([1.5]), nested: [{ x: null }] };
    const back = (await get(identity.remote(value))) as typeof value;
    expect(back.m).toEqual(value.m);
    expect(back.s).toEqual(value.s);
    expect(back.d).toEqual(value.d);
    expect(back.big).toBe(value.big);
    expect(Array.from(back.f)).toEqual([1.5]);
    expect(back.nested).toEqual([{ x: null }]);
  });

  it('lets a task submit tasks and get them without deadlock (fib(15) on 2 CPUs)', async () => {
    expect(await get(fib.remote(15))).toBe(610);
  });

  it('gives tasks and the driver their runtime context', async () => {
    const ref = context.remote();
    const inTask = await get(ref);
    const inDriver = getRuntimeContext();
    expect(inTask.taskId).toBe(ref.id);
    expect(inTask.nodeId).toBe(inDriver.nodeId);
    expect(inTask.jobId).toBe(inDriver.jobId);
    expect(inTask.workerId).not.toBe(inDriver.workerId);
    expect(inDriver.taskId).toBeUndefined();
  });

  it('puts a value and passes it to a task', async () => {
    const ref = put(new Float64Array([1, 2, 3.5]));
    expect(await get(sumArray.remote(ref))).toBe(6.5);
  });

  it('splits refs into ready and pending with wait', async () => {
    const refs = [add.remote(1, 1), add.remote(2, 2), add.remote(3, 3)];
    const all = await wait(refs, { numReturns: 3 });
    expect(all.ready).toHaveLength(3);
    expect(all.pending).toHaveLength(0);
    const one = await wait(refs, { numReturns: 1 });
    expect(one.ready).toHaveLength(1);
    expect(one.pending).toHaveLength(2);
  });
});
