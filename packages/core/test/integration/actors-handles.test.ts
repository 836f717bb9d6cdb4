import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ObjectRef, TaskError, get, getActor, getRuntimeContext, init, kill, shutdown, type ActorHandle } from '@weft/core';
import { ActorHandleBase } from '@weft/protocol';
import { add } from '../fixtures/basic-tasks.ts';
import { ArgProbe } from '../fixtures/actor-args.ts';
import { WhereAmI } from '../fixtures/context-actor.ts';
import { Counter, incThrough } from '../fixtures/counter-actor.ts';
import { Relay, echoHandle, spawnCounter, spawnNamedCounter } from '../fixtures/handle-passing.ts';
import { throwRangeError } from '../fixtures/throwing-task.ts';
import { sleepThenReturn } from '../fixtures/slow-task.ts';
import { rejectionOf } from '../support/outcome.ts';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

let names = 0;
const uniqueName = (): string => `counter-${process.pid}-${++names}`;

describe('typed actor handles', () => {
  it('creates an actor with constructor arguments and returns the result of a method call', async () => {
    const c = Counter.remote(5);
    expect(c).toBeInstanceOf(ActorHandleBase);
    expect(c.className).toBe('Counter');
    const ref = c.inc.remote(2);
    expect(ref).toBeInstanceOf(ObjectRef);
    expect(await get(ref)).toBe(7);
  });

  it('types handles and method results from the class', () => {
    const c = Counter.remote();
    expectTypeOf(c).toEqualTypeOf<ActorHandle<Counter>>();
    expectTypeOf(c.inc.remote(1)).toEqualTypeOf<ObjectRef<number>>();
    expectTypeOf(c.slowAdd.remote(1)).toEqualTypeOf<ObjectRef<number>>();
    // Never called: only the compiler checks these lines.
    const typeErrors = () => {
      // @ts-expect-error inc takes a number
      c.inc.remote('x');
      // @ts-expect-error Counter has no method named nope
      c.nope.remote();
      // @ts-expect-error the constructor takes a number
      Counter.remote('five');
    };
    expect(typeof typeErrors).toBe('function');
  });

  it('fails a call of a generator method with a TaskError saying actor methods cannot stream, and the actor lives on', async () => {
    const counter = Counter.remote(3);
    for (const ref of [counter.countUp.remote(5), counter.countUpLater.remote(5)] as ObjectRef<unknown>[]) {
      const error = await get(ref).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(TaskError);
      expect((error as TaskError).message).toMatch(/Counter\.countUp(Later)? is a generator method: actor methods cannot stream yet/);
    }
    expect(await get(counter.inc.remote(1))).toBe(4);
  });

  it('keeps the actor state between calls', async () => {
    const c = Counter.remote(10);
    expect(await get(c.inc.remote(1))).toBe(11);
    expect(await get(c.inc.remote(4))).toBe(15);
    expect(await get(c.value.remote())).toBe(15);
  });

  it('runs the calls of one handle in submission order', async () => {
    const c = Counter.remote();
    const refs = Array.from({ length: 200 }, () => c.inc.remote(1));
    expect(await get(refs)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('resolves ObjectRefs passed as top-level method arguments before the method runs', async () => {
    const probe = ArgProbe.remote();
    expect(await get(probe.sum.remote(add.remote(1, 2), add.remote(10, 20)))).toBe(33);
    expect(await get(probe.describe.remote(add.remote(1, 1)))).toEqual({ isRef: false, type: 'number' });
    const c = Counter.remote(100);
    expect(await get(c.inc.remote(add.remote(2, 3)))).toBe(105);
  });

  it('resolves ObjectRefs passed to the constructor before it runs', async () => {
    const c = Counter.remote(sleepThenReturn.remote(100, 42) as ObjectRef<number>);
    expect(await get(c.value.remote())).toBe(42);
  });

  it('keeps submission order when an earlier call waits for its ref argument', async () => {
    const c = Counter.remote(0);
    const first = c.inc.remote(sleepThenReturn.remote(200, 1) as ObjectRef<number>);
    const second = c.inc.remote(10);
    expect(await get([first, second])).toEqual([1, 11]);
  });

  it('passes ObjectRefs nested in method arguments as refs', async () => {
    const probe = ArgProbe.remote();
    expect(await get(probe.describeInner.remote({ inner: add.remote(4, 5) }))).toEqual({ isRef: true, value: 9 });
  });

  it('fails a call whose ref argument failed with that error, without running the method', async () => {
    const c = Counter.remote(1);
    const error = await rejectionOf(get(c.inc.remote(throwRangeError.remote(3))));
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).taskName).toBe('throwRangeError');
    expect(await get(c.value.remote())).toBe(1);
  });
});

describe('actor handles as values', () => {
  it('lets a task call an actor through a handle passed as an argument', async () => {
    const c = Counter.remote(0);
    expect(await get(incThrough.remote(c, 5))).toBe(5);
    expect(await get(c.value.remote())).toBe(5);
  });

  it('returns a working handle to the same actor from a task', async () => {
    const c = Counter.remote(0);
    const back = await get(echoHandle.remote(c));
    expect(back).toBeInstanceOf(ActorHandleBase);
    expect(back.actorId).toBe(c.actorId);
    expect(await get(back.inc.remote(3))).toBe(3);
    expect(await get(c.value.remote())).toBe(3);
  });

  it('returns the handle of an actor that a task created', async () => {
    const made = await get(spawnCounter.remote(10));
    expect(made.className).toBe('Counter');
    expect(await get(made.inc.remote(1))).toBe(11);
    expect(await get(made.value.remote())).toBe(11);
  });

  it('lets an actor keep a handle it was given and call that actor', async () => {
    const c = Counter.remote(0);
    const relay = Relay.remote();
    expect(await get(relay.adopt.remote(c))).toBe(c.actorId);
    expect(await get(relay.bump.remote(2))).toBe(2);
    expect(await get(relay.incVia.remote(c, 3))).toBe(5);
    expect(await get(c.value.remote())).toBe(5);
  });

  it('reaches the same actor through every copy of a handle, so the counts add up', async () => {
    const c = Counter.remote(0);
    const relay = Relay.remote();
    await get(relay.adopt.remote(c));
    const returned = await get(echoHandle.remote(c));
    const refs = [
      ...Array.from({ length: 10 }, () => c.inc.remote(1)),
      ...Array.from({ length: 10 }, () => incThrough.remote(c, 10)),
      ...Array.from({ length: 10 }, () => relay.bump.remote(100)),
      ...Array.from({ length: 10 }, () => returned.inc.remote(1000)),
    ];
    await get(refs);
    expect(await get(c.value.remote())).toBe(11_110);
  });
});

describe('named actors', () => {
  it('finds a named actor with getActor and calls it through the handle', async () => {
    const name = uniqueName();
    const c = Counter.options({ name }).remote(3);
    const found = await getActor<Counter>(name);
    expect(found.actorId).toBe(c.actorId);
    expect(found.className).toBe('Counter');
    expect(await get(found.inc.remote(1))).toBe(4);
    expect(await get(c.value.remote())).toBe(4);
  });

  it('throws a RangeError in the driver when a live actor has the name already', async () => {
    const name = uniqueName();
    const first = Counter.options({ name }).remote(1);
    expect(() => Counter.options({ name }).remote(2)).toThrow(RangeError);
    expect(() => Counter.options({ name }).remote(2)).toThrow(name);
    // The first actor keeps the name and keeps working.
    expect((await getActor<Counter>(name)).actorId).toBe(first.actorId);
    expect(await get(first.value.remote())).toBe(1);
  });

  it('throws the same RangeError at .remote() inside a task (a worker), and a task may take a free name', async () => {
    const name = uniqueName();
    const first = Counter.options({ name }).remote(1);
    expect(await get(spawnNamedCounter.remote(name, 2))).toEqual({ threw: 'RangeError', message: expect.stringContaining(`name '${name}' is taken`) as string });
    expect((await getActor<Counter>(name)).actorId).toBe(first.actorId);
    const fresh = uniqueName();
    const made = await get(spawnNamedCounter.remote(fresh, 7)) as { actorId: string };
    const found = await getActor<Counter>(fresh);
    expect(found.actorId).toBe(made.actorId);
    expect(await get(found.value.remote())).toBe(7);
    // The driver now meets the task's actor's name as taken, as the task met the driver's.
    expect(() => Counter.options({ name: fresh }).remote(0)).toThrow(RangeError);
  });

  it('rejects getActor of an unknown name with an error naming it', async () => {
    const error = await rejectionOf(getActor('nobody-has-this-name'));
    expect(error.message).toContain('nobody-has-this-name');
  });

  it('frees the name of a killed actor for a new actor', async () => {
    const name = uniqueName();
    const first = Counter.options({ name }).remote(1);
    expect(await get(first.value.remote())).toBe(1);
    await kill(first);
    expect((await rejectionOf(getActor(name))).message).toContain(name);
    const second = Counter.options({ name }).remote(100);
    const found = await getActor<Counter>(name);
    expect(found.actorId).toBe(second.actorId);
    expect(await get(found.inc.remote(1))).toBe(101);
  });
});

describe('exceptions in actor methods', () => {
  it('reaches get as a TaskError and leaves the actor alive with its state', async () => {
    const c = Counter.remote(3);
    expect(await get(c.inc.remote(1))).toBe(4);
    const error = await rejectionOf(get(c.fail.remote('bad input')));
    expect(error).toBeInstanceOf(TaskError);
    expect(error.code).toBe('TASK_ERROR');
    const taskError = error as TaskError;
    expect(taskError.taskName).toBe('Counter.fail');
    expect(taskError.cause).toBe('RangeError');
    expect(taskError.remoteMessage).toBe('bad input');
    expect(taskError.remoteStack).toContain('counter-actor.ts');
    expect(await get(c.value.remote())).toBe(4);
    expect(await get(c.inc.remote(1))).toBe(5);
  });
});

describe('runtime context in actors', () => {
  it('gives an actor method the actor id of its handle and the id of the call', async () => {
    const w = WhereAmI.remote();
    const ref = w.where.remote();
    const inActor = await get(ref);
    const inDriver = getRuntimeContext();
    expect(inActor.actorId).toBe(w.actorId);
    expect(typeof inActor.taskId).toBe('string');
    expect(inActor.taskId).toBe(ref.id);
    expect(inActor.nodeId).toBe(inDriver.nodeId);
    expect(inActor.jobId).toBe(inDriver.jobId);
    expect(inActor.workerId).not.toBe(inDriver.workerId);
    expect(inDriver.actorId).toBeUndefined();
  });

  it('keeps the actor and call ids across an await in an async method', async () => {
    const w = WhereAmI.remote();
    const ref = w.whereAfterAwait.remote();
    const inActor = await get(ref);
    expect(inActor.actorId).toBe(w.actorId);
    expect(inActor.taskId).toBe(ref.id);
  });

  it('runs each actor in a worker of its own for its whole life', async () => {
    const [one, two] = [WhereAmI.remote(), WhereAmI.remote()];
    const [a1, a2, b1] = await get([one.where.remote(), one.where.remote(), two.where.remote()]);
    expect(a1.workerId).toBe(a2.workerId);
    expect(b1.workerId).not.toBe(a1.workerId);
  });
});
