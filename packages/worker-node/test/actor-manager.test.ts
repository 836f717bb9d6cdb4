/**
 * The node's actors without worker threads: fake actor workers that record what they are sent, a
 * fake local scheduler that counts CPUs, and a fake head that answers restarts when the test says.
 * What is asserted: calls reach an actor in submission order (also across a restart), a restart
 * is asked of the head and only the head's grant restarts it, maxTaskRetries decides what happens
 * to calls in flight, and every queued call fails with ActorDiedError when the actor dies.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  encode, type ActorCallSpec, type ActorLocation, type ActorSpec, type NodeMessage, type ResourceSet, type Result,
} from '@weft/protocol';
import { ActorManager, type ActorReports } from '../src/actor-manager.ts';
import type { LocalScheduler } from '../src/local-scheduler.ts';
import { ObjectStore } from '../src/object-store.ts';
import type { WorkerHandle, WorkerPool } from '../src/worker-pool.ts';

const NODE = 'node-aaaaaaaaaaaa';
const ok = (value: unknown = null): Result => ({ status: 'ok', value: encode(value) });

/** Lets the promise callbacks (installed, started, the head's answers) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

type FakeWorker = WorkerHandle & { sent: NodeMessage[] };

function fakeWorker(id: string): FakeWorker {
  const sent: NodeMessage[] = [];
  return { id, role: 'actor', state: 'ready', started: Promise.resolve(), sent, conn: { send: (m: NodeMessage) => sent.push(m) } } as unknown as FakeWorker;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

function spec(actorId: string, options: Partial<ActorSpec['options']> = {}, jobId = 'job-1'): ActorSpec {
  return {
    actorId, jobId, cls: { module: 'counter.ts', name: 'Counter' }, args: encode([]), argRefs: [],
    options: { maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1, resources: { CPU: 1 }, placement: { CPU: 1 }, ...options },
  };
}

function call(callId: string, actorId = 'a-1', argRefs: Array<[number, string]> = []): ActorCallSpec {
  return { callId, actorId, method: 'inc', name: 'Counter.inc', args: encode([]), argRefs };
}

/** The ids of the calls a worker was sent, in order. */
const calls = (worker: FakeWorker): string[] => worker.sent.flatMap((m) => (m.type === 'actor-call' ? [m.call.callId] : []));

function setUp(cpus = 4, sharedWorkers = 1) {
  const store = new ObjectStore();
  const workers: FakeWorker[] = [];
  const killed: Array<{ worker: WorkerHandle; reason: string }> = [];
  const pool = {
    spawnActorWorker: () => {
      const worker = fakeWorker(`worker-${workers.length + 1}`);
      workers.push(worker);
      return worker;
    },
    kill: (worker: WorkerHandle, reason: string) => void killed.push({ worker, reason }),
  } as unknown as WorkerPool;
  let free = cpus;
  const scheduler = {
    reserve: (needed: ResourceSet, held: ResourceSet) => {
      if ((needed.CPU ?? 0) > free || (held.CPU ?? 0) > free) return false;
      free -= held.CPU ?? 0;
      return true;
    },
    // As the real one, giving resources back dispatches (which places waiting actors first).
    release: (held: ResourceSet) => {
      free += held.CPU ?? 0;
      manager.placePending();
    },
    dispatch: () => manager.placePending(),
  } as unknown as LocalScheduler;
  const states: ActorLocation[] = [];
  const restartsAsked: Array<{ actorId: string; grant: ReturnType<typeof deferred<number | null>> }> = [];
  const reports: ActorReports & { where: ActorLocation | null } = {
    where: null,
    actorState: (location) => void states.push(location),
    findActor: async () => reports.where,
    restartActor: (actorId) => {
      const grant = deferred<number | null>();
      restartsAsked.push({ actorId, grant });
      return grant.promise;
    },
  };
  const manager = new ActorManager(NODE, store, scheduler, pool, reports, sharedWorkers);
  return { store, manager, workers, killed, states, restartsAsked, reports, free: () => free };
}

/** Create `actorId` and have its constructor return; resolves with its worker. */
async function alive(t: ReturnType<typeof setUp>, actorSpec: ActorSpec): Promise<FakeWorker> {
  t.manager.create(actorSpec);
  await flush();
  const worker = t.workers.at(-1) as FakeWorker;
  t.manager.created(worker, actorSpec.actorId, ok());
  return worker;
}

const resultOf = (t: ReturnType<typeof setUp>, id: string) => t.store.get(id)?.result;

afterEach(() => {
  vi.useRealTimers();
});

describe('calls to one actor', () => {
  it('sends calls to the worker in submission order once the constructor returned, those that came before the word to host it first', async () => {
    const t = setUp();
    t.reports.where = { actorId: 'a-1', className: 'Counter', nodeId: NODE, state: 'pending' };
    t.manager.submit(call('c-1'), 'driver-1');
    t.manager.submit(call('c-2'), 'driver-1');
    await flush();
    t.manager.create(spec('a-1'));
    t.manager.submit(call('c-3'), 'driver-1');
    await flush();
    const worker = t.workers[0] as FakeWorker;
    expect(worker.sent.map((m) => m.type)).toEqual(['create-actor-instance']);
    t.manager.submit(call('c-4'), 'driver-1');
    t.manager.created(worker, 'a-1', ok());
    expect(calls(worker)).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
    expect(t.states.map((s) => s.state)).toEqual(['pending', 'alive']);
  });

  it('holds a call whose ObjectRef argument does not exist yet, and every call behind it, until it does', async () => {
    const t = setUp();
    const worker = await alive(t, spec('a-1'));
    t.manager.submit(call('c-1', 'a-1', [[0, 'obj-1']]), 'driver-1');
    t.manager.submit(call('c-2'), 'driver-1');
    expect(calls(worker)).toEqual([]);
    t.store.complete('obj-1', ok(41));
    expect(calls(worker)).toEqual(['c-1', 'c-2']);
    const sent = worker.sent.find((m) => m.type === 'actor-call' && m.call.callId === 'c-1');
    expect(sent?.type === 'actor-call' ? sent.argValues.map(([id]) => id) : []).toEqual(['obj-1']);
  });

  it('fails a call whose argument failed with that error, without sending it, and sends the next', async () => {
    const t = setUp();
    const worker = await alive(t, spec('a-1'));
    t.store.addHolder('obj-bad', 'driver-1');
    t.store.complete('obj-bad', { status: 'error', error: { code: 'TASK_ERROR', message: 'upstream threw' } });
    t.manager.submit(call('c-1', 'a-1', [[0, 'obj-bad']]), 'driver-1');
    t.manager.submit(call('c-2'), 'driver-1');
    expect(calls(worker)).toEqual(['c-2']);
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'TASK_ERROR', message: 'upstream threw' } });
  });

  it('stores what the worker returns for a call, and ignores a report for a call it did not send', async () => {
    const t = setUp();
    const worker = await alive(t, spec('a-1'));
    t.manager.submit(call('c-1'), 'driver-1');
    t.manager.callDone(worker, 'c-1', ok(7));
    t.manager.callDone(worker, 'c-1', ok(8));
    t.manager.callDone(worker, 'c-other', ok(9));
    expect(resultOf(t, 'c-1')).toEqual(ok(7));
    expect(t.store.get('c-other')).toBeUndefined();
  });
});

describe('when the actor worker dies', () => {
  it('asks the head for a restart, queues new calls meanwhile, and after the grant sends the calls in flight again ahead of them', async () => {
    const t = setUp();
    const first = await alive(t, spec('a-1', { maxRestarts: 3, maxTaskRetries: 1 }));
    t.manager.submit(call('c-1'), 'driver-1');
    t.manager.submit(call('c-2'), 'driver-1');
    t.manager.submit(call('c-3', 'a-1', [[0, 'obj-1']]), 'driver-1'); // queued: its argument does not exist yet
    t.manager.workerExited(first, 'exit code 1');
    expect(t.states.at(-1)?.state).toBe('restarting');
    expect(t.restartsAsked.map((r) => r.actorId)).toEqual(['a-1']);
    t.manager.submit(call('c-4'), 'driver-1');
    t.store.complete('obj-1', ok(1));
    expect(t.workers).toHaveLength(1);

    t.restartsAsked[0]?.grant.resolve(1);
    await flush();
    const second = t.workers[1] as FakeWorker;
    expect(second.sent.map((m) => m.type)).toEqual(['create-actor-instance']);
    t.manager.created(second, 'a-1', ok());
    expect(calls(second)).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
    expect(t.manager.placements()[0]?.placed?.restarts).toBe(1);
    // A late report from the dead worker changes nothing.
    t.manager.callDone(first, 'c-1', ok('stale'));
    expect(resultOf(t, 'c-1')).toBeUndefined();
    // What the state API lists: the restart, and the calls that ended (none before the death did).
    t.manager.callDone(second, 'c-1', ok(1));
    t.manager.callDone(second, 'c-2', ok(2));
    expect(t.manager.list()).toMatchObject([{ actorId: 'a-1', state: 'alive', restarts: 1, calls: 2 }]);
  });

  it('fails a call in flight with ActorDiedError once it has used its maxTaskRetries, and retries the others', async () => {
    const t = setUp();
    const first = await alive(t, spec('a-1', { maxRestarts: 3, maxTaskRetries: 1 }));
    t.manager.submit(call('c-1'), 'driver-1');
    t.manager.workerExited(first, 'exit code 1');
    t.restartsAsked[0]?.grant.resolve(1);
    await flush();
    const second = t.workers[1] as FakeWorker;
    t.manager.created(second, 'a-1', ok());
    t.manager.submit(call('c-2'), 'driver-1');
    expect(calls(second)).toEqual(['c-1', 'c-2']);
    t.manager.workerExited(second, 'out of memory');
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/maxTaskRetries: 1/) } });
    expect(resultOf(t, 'c-2')).toBeUndefined();
    t.restartsAsked[1]?.grant.resolve(2);
    await flush();
    const third = t.workers[2] as FakeWorker;
    t.manager.created(third, 'a-1', ok());
    expect(calls(third)).toEqual(['c-2']);
  });

  it('fails calls in flight at once with maxTaskRetries 0, and retries them through any number of deaths with -1', async () => {
    const t = setUp();
    const once = await alive(t, spec('a-0', { maxRestarts: -1, maxTaskRetries: 0 }));
    t.manager.submit(call('c-0', 'a-0'), 'driver-1');
    t.manager.workerExited(once, 'exit code 1');
    expect(resultOf(t, 'c-0')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED' } });

    let worker = await alive(t, spec('a-1', { maxRestarts: -1, maxTaskRetries: -1 }));
    t.manager.submit(call('c-1'), 'driver-1');
    for (let death = 1; death <= 5; death++) {
      t.manager.workerExited(worker, 'exit code 1');
      t.restartsAsked.at(-1)?.grant.resolve(death);
      await flush();
      worker = t.workers.at(-1) as FakeWorker;
      t.manager.created(worker, 'a-1', ok());
      expect(calls(worker)).toEqual(['c-1']);
    }
    expect(resultOf(t, 'c-1')).toBeUndefined();
  });

  it('dies when the head grants no restart: queued calls and every later call fail with ActorDiedError, and its CPU is free again', async () => {
    const t = setUp(1);
    const worker = await alive(t, spec('a-1', { maxRestarts: 2 }));
    expect(t.free()).toBe(0);
    t.manager.submit(call('c-1'), 'driver-1');
    t.manager.workerExited(worker, 'exit code 1');
    t.manager.submit(call('c-2'), 'driver-1');
    t.restartsAsked[0]?.grant.resolve(null);
    await flush();
    expect(t.workers).toHaveLength(1);
    expect(t.states.at(-1)?.state).toBe('dead');
    // c-1 was in flight (failed as the worker died, maxTaskRetries 0); c-2 queued for the restart.
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED' } });
    expect(resultOf(t, 'c-2')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/no restarts left \(maxRestarts: 2\)/) } });
    t.manager.submit(call('c-3'), 'driver-1');
    expect(resultOf(t, 'c-3')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED' } });
    expect(t.free()).toBe(1);
  });

  it('dies, without asking for a restart, when its worker dies before the constructor returned', async () => {
    const t = setUp();
    t.manager.create(spec('a-1', { maxRestarts: -1 }));
    t.manager.submit(call('c-1'), 'driver-1');
    await flush();
    t.manager.workerExited(t.workers[0] as FakeWorker, 'exit code 1');
    expect(t.restartsAsked).toEqual([]);
    expect(t.states.at(-1)?.state).toBe('dead');
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/before it started/) } });
  });

  it('dies with the thrown message when its constructor throws', async () => {
    const t = setUp();
    t.manager.create(spec('a-1'));
    t.manager.submit(call('c-1'), 'driver-1');
    await flush();
    t.manager.created(t.workers[0] as FakeWorker, 'a-1', { status: 'error', error: { code: 'TASK_ERROR', message: 'bad start', remoteName: 'RangeError' } });
    expect(t.manager.list()).toEqual([{ actorId: 'a-1', className: 'Counter', state: 'dead', restarts: 0, calls: 0 }]);
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { message: expect.stringMatching(/constructor threw RangeError: bad start/) } });
    expect(t.killed.map((k) => k.worker)).toEqual([t.workers[0]]);
  });
});

describe('what a restarted head is told', () => {
  it('gives the live actors with their spec, owner and restarts so far, the dead ones without (they never restart)', async () => {
    const t = setUp();
    t.manager.create(spec('a-1', { maxRestarts: 5, name: 'svc' }), Promise.resolve(), { owner: 'node-owner', restarts: 2 });
    await flush();
    t.manager.created(t.workers[0] as FakeWorker, 'a-1', ok());
    t.manager.workerExited(t.workers[0] as FakeWorker, 'exit code 1');
    t.restartsAsked[0]?.grant.resolve(3);
    await flush();
    await alive(t, spec('a-2'));
    t.manager.kill('a-2');
    expect(t.manager.placements()).toEqual([
      { location: { actorId: 'a-1', className: 'Counter', nodeId: NODE, state: 'restarting', name: 'svc' },
        placed: { spec: spec('a-1', { maxRestarts: 5, name: 'svc' }), owner: 'node-owner', restarts: 3 } },
      { location: { actorId: 'a-2', className: 'Counter', nodeId: NODE, state: 'dead' } },
    ]);
  });
});

describe('killing an actor', () => {
  it('fails the calls in flight and queued, ends its worker, unpins its arguments, gives its CPU back, and is false the second time', async () => {
    const t = setUp(2);
    const worker = await alive(t, spec('a-1', { maxRestarts: -1 }));
    t.store.addHolder('obj-1', 'driver-1');
    t.store.complete('obj-1', ok(1));
    t.manager.submit(call('c-1', 'a-1', [[0, 'obj-1']]), 'driver-1');
    t.manager.submit(call('c-2', 'a-1', [[0, 'obj-missing']]), 'driver-1');
    expect(calls(worker)).toEqual(['c-1']);
    expect(t.store.get('obj-1')?.pins).toBe(1);
    expect(t.manager.kill('a-1')).toBe(true);
    for (const id of ['c-1', 'c-2']) {
      expect(resultOf(t, id)).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/killed with kill\(\)/) } });
    }
    expect(t.killed.map((k) => k.worker)).toEqual([worker]);
    expect(t.store.get('obj-1')?.pins).toBe(0);
    expect(t.store.get('obj-missing')?.pins).toBe(0);
    expect(t.free()).toBe(2);
    expect(t.manager.kill('a-1')).toBe(false);
    expect(t.manager.kill('a-unknown')).toBe(false);
    // The dead worker's exit, reported later, asks for nothing.
    t.manager.workerExited(worker, 'terminated');
    expect(t.restartsAsked).toEqual([]);
  });

  it('starts an actor once its constructor arguments exist, and unpins them when it dies', async () => {
    const t = setUp();
    t.store.addHolder('obj-c', 'driver-1');
    t.manager.create({ ...spec('a-1'), argRefs: [[0, 'obj-c']] });
    await flush();
    expect(t.workers).toHaveLength(0);
    expect(t.store.get('obj-c')?.pins).toBe(1);
    t.store.complete('obj-c', ok(5));
    await flush();
    expect(t.workers[0]?.sent[0]).toMatchObject({ type: 'create-actor-instance', argValues: [['obj-c', encode(5)]] });
    t.manager.kill('a-1');
    expect(t.store.get('obj-c')?.pins).toBe(0);
  });

  it('kills the actors of a job whose driver left, but not detached ones', async () => {
    const t = setUp();
    await alive(t, spec('a-1'));
    await alive(t, spec('a-2', { detached: true }));
    await alive(t, spec('a-3', {}, 'job-2'));
    t.manager.killJob('job-1');
    expect(t.manager.list().map((a) => [a.actorId, a.state])).toEqual([['a-1', 'dead'], ['a-2', 'alive'], ['a-3', 'alive']]);
    expect(t.manager.liveCount()).toBe(2);
  });

  it('places an actor waiting for CPUs once a killed one gives them back, in the order they came', async () => {
    const t = setUp(2);
    await alive(t, spec('a-1', { resources: { CPU: 2 }, placement: { CPU: 2 } }));
    t.manager.create(spec('a-2', { resources: { CPU: 2 }, placement: { CPU: 2 } }));
    t.manager.create(spec('a-3'));
    await flush();
    expect(t.workers).toHaveLength(1); // a-3 would fit, but waits behind a-2
    t.manager.kill('a-1');
    await flush();
    expect(t.workers).toHaveLength(2);
    expect(t.workers[1]?.sent[0]).toMatchObject({ type: 'create-actor-instance', spec: { actorId: 'a-2' } });
  });

  it('keeps the records of the last 1,000 dead actors, so that calls to them fail at once, and forgets older ones', async () => {
    const t = setUp(2000);
    for (let i = 0; i <= 1000; i++) {
      t.manager.create(spec(`a-${i}`, { resources: {}, placement: {} }));
      t.manager.kill(`a-${i}`);
    }
    expect(t.manager.has('a-0')).toBe(false);
    expect(t.manager.has('a-1')).toBe(true);
    t.manager.submit(call('c-1', 'a-1'), 'driver-1');
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/is dead/) } });
  });
});

describe('calls for an actor not hosted here', () => {
  it('fails them at once when the head says the actor lives on another node', async () => {
    const t = setUp();
    t.reports.where = { actorId: 'a-1', className: 'Counter', nodeId: 'node-bbbbbbbbbbbb', state: 'alive' };
    t.manager.submit(call('c-1'), 'driver-1');
    await flush();
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/alive on node node-bbbbbbbbbbbb/) } });
  });

  it('keeps them 30 s when the head placed the actor here, then fails them if the word to host it never came', async () => {
    vi.useFakeTimers();
    const t = setUp();
    t.reports.where = { actorId: 'a-1', className: 'Counter', nodeId: NODE, state: 'pending' };
    t.manager.submit(call('c-1'), 'driver-1');
    t.manager.submit(call('c-2'), 'driver-1');
    await flush();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(resultOf(t, 'c-1')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    for (const id of ['c-1', 'c-2']) {
      expect(resultOf(t, id)).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/not hosted there within 30 s/) } });
    }
  });
});

describe('actors that reserve no CPU share workers', () => {
  const small = (actorId: string, options: Partial<ActorSpec['options']> = {}, jobId = 'job-1') =>
    spec(actorId, { resources: {}, placement: { CPU: 1 }, ...options }, jobId);
  /** The actor ids a worker was told to construct. */
  const constructed = (worker: FakeWorker): string[] => worker.sent.flatMap((m) => (m.type === 'create-actor-instance' ? [m.spec.actorId] : []));

  it('places each in the least loaded of up to `sharedWorkers` workers of its job; CPUs or isolated get their own', async () => {
    const t = setUp(4, 2);
    for (const id of ['a-1', 'a-2', 'a-3', 'a-4', 'a-5']) t.manager.create(small(id));
    t.manager.create(small('a-6', { isolated: true }));
    t.manager.create(spec('a-7'));
    t.manager.create(small('b-1', {}, 'job-2'));
    await flush();
    expect(t.workers.map(constructed)).toEqual([['a-1', 'a-3', 'a-5'], ['a-2', 'a-4'], ['a-6'], ['a-7'], ['b-1']]);
    expect(t.free()).toBe(3); // only a-7 holds a CPU
  });

  it('routes each report to its actor: constructors and calls of neighbours in one worker', async () => {
    const t = setUp(4, 1);
    t.manager.create(small('a-1'));
    t.manager.create(small('a-2'));
    await flush();
    const worker = t.workers[0] as FakeWorker;
    t.manager.submit(call('c-1', 'a-1'), 'driver-1');
    t.manager.submit(call('c-2', 'a-2'), 'driver-1');
    t.manager.created(worker, 'a-2', ok());
    expect(calls(worker)).toEqual(['c-2']);
    t.manager.created(worker, 'a-1', ok());
    expect(calls(worker)).toEqual(['c-2', 'c-1']);
    t.manager.callDone(worker, 'c-1', ok('one'));
    t.manager.callDone(worker, 'c-2', ok('two'));
    expect(resultOf(t, 'c-1')).toEqual(ok('one'));
    expect(resultOf(t, 'c-2')).toEqual(ok('two'));
    expect(t.manager.list().map((a) => [a.actorId, a.state, a.calls])).toEqual([['a-1', 'alive', 1], ['a-2', 'alive', 1]]);
  });

  it('kill drops the actor in its worker (the worker and its neighbours go on); an isolated actor takes its worker along', async () => {
    const t = setUp(4, 1);
    const worker = await alive(t, small('a-1'));
    await alive(t, small('a-2'));
    t.manager.submit(call('c-1', 'a-1'), 'driver-1');
    expect(t.manager.kill('a-1')).toBe(true);
    expect(worker.sent.at(-1)).toEqual({ type: 'drop-actor', actorId: 'a-1' });
    expect(t.killed).toEqual([]);
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED', message: expect.stringMatching(/killed/) } });
    t.manager.callDone(worker, 'c-1', ok('late')); // what the dropped actor still returns changes nothing
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error' });
    t.manager.submit(call('c-2', 'a-2'), 'driver-1');
    expect(calls(worker)).toEqual(['c-1', 'c-2']);
    const own = await alive(t, small('a-3', { isolated: true }));
    t.manager.kill('a-3');
    expect(t.killed.map((k) => k.worker)).toEqual([own]);
  });

  it('a shared worker\'s death restarts each of its actors within its own maxRestarts, in the least loaded worker', async () => {
    const t = setUp(4, 1);
    const worker = await alive(t, small('a-1', { maxRestarts: 1 }));
    await alive(t, small('a-2', { maxRestarts: 0 }));
    t.manager.create(small('a-3', { maxRestarts: 2 })); // still constructing when the worker dies
    await flush();
    t.manager.submit(call('c-1', 'a-1'), 'driver-1');
    t.manager.workerExited(worker, 'exit code 1');
    expect(t.restartsAsked.map((r) => r.actorId)).toEqual(['a-1', 'a-2', 'a-3']);
    t.restartsAsked[0]?.grant.resolve(1);
    t.restartsAsked[1]?.grant.resolve(null);
    t.restartsAsked[2]?.grant.resolve(1);
    await flush();
    expect(t.workers).toHaveLength(2);
    const second = t.workers[1] as FakeWorker;
    expect(constructed(second)).toEqual(['a-1', 'a-3']);
    expect(t.manager.list().map((a) => [a.actorId, a.state])).toEqual([['a-1', 'restarting'], ['a-2', 'dead'], ['a-3', 'restarting']]);
    t.manager.created(second, 'a-1', ok());
    expect(calls(second)).toEqual([]); // c-1 was in flight with maxTaskRetries 0: it failed
    expect(resultOf(t, 'c-1')).toMatchObject({ status: 'error', error: { code: 'ACTOR_DIED' } });
  });

  it('ends a job\'s shared workers once its driver left and no detached actor stays in them', async () => {
    const t = setUp(4, 2);
    const first = await alive(t, small('a-1'));
    const second = await alive(t, small('a-2', { detached: true }));
    t.manager.killJob('job-1');
    expect(t.killed.map((k) => k.worker)).toEqual([first]);
    expect(second.sent.at(-1)?.type).toBe('create-actor-instance');
    // Its detached actor's death ends that worker too; a new job's actors get a new one.
    t.manager.kill('a-2');
    expect(t.killed.map((k) => k.worker)).toEqual([first, second]);
    await alive(t, small('a-3', {}, 'job-1b'));
    expect(t.workers).toHaveLength(3);
  });
});
