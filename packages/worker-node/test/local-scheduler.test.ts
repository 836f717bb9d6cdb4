import { describe, expect, it } from 'vitest';
import { encode, type NodeMessage, type TaskSpec } from '@weft/protocol';
import { LocalScheduler } from '../src/local-scheduler.ts';
import { ObjectStore } from '../src/object-store.ts';
import { takesTasks, type WorkerHandle, type WorkerPool } from '../src/worker-pool.ts';

/** A worker the scheduler can assign to: it records what it is sent. */
function fakeWorker(id: string): WorkerHandle & { sent: NodeMessage[] } {
  const sent: NodeMessage[] = [];
  return {
    id, role: 'task', state: 'ready', tasks: new Set<string>(), backlog: [], active: 0, shape: undefined, aheadUntil: 0,
    killedFor: undefined, cancelled: new Set<string>(), lastError: undefined, sent, conn: { send: (message: NodeMessage) => sent.push(message) },
  } as unknown as WorkerHandle & { sent: NodeMessage[] };
}

/** A pool of given workers that never grows; `killed` lists the workers it was told to end. */
function fakePool(workers: WorkerHandle[], killed: WorkerHandle[] = []): WorkerPool {
  return {
    idleWorker: () => workers.find((w) => takesTasks(w) && w.active === 0 && w.backlog.length === 0),
    pipelineWorker: () => undefined,
    canGrow: () => false,
    spawn: () => { throw new Error('the fake pool does not grow'); },
    kill: (worker: WorkerHandle, reason: string) => {
      worker.killedFor = reason;
      worker.state = 'stopping';
      killed.push(worker);
    },
  } as unknown as WorkerPool;
}

const cluster = { spill: () => {}, remoteView: () => ({ free: 0, cpus: 0, queued: 0 }), cancelRemote: () => {} };
const task = (taskId: string): TaskSpec => ({
  taskId, jobId: 'job-1', fn: { module: 'tasks.ts', name: 'f' }, name: 'f', args: encode([]), argRefs: [], resources: { CPU: 1 },
  maxRetries: 0, retryExceptions: false,
});

describe('the local scheduler', () => {
  it('refuses a second submit of a live task id: the first keeps its record, its worker and its CPUs', () => {
    const store = new ObjectStore();
    const worker = fakeWorker('worker-1');
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: 2 }, store, fakePool([worker]), cluster);
    scheduler.submit(task('t-1'), 'driver-1');
    expect(scheduler.available().CPU).toBe(1);
    scheduler.submit(task('t-1'), 'driver-2');
    expect(scheduler.counts()).toMatchObject({ running: 1, queued: 0, waiting: 0 });
    expect(worker.sent.filter((m) => m.type === 'execute-task')).toHaveLength(1);
    scheduler.taskDone(worker, 't-1', { status: 'ok', value: encode(7) }, 1);
    expect(scheduler.available().CPU).toBe(2);
    expect(scheduler.counts()).toMatchObject({ running: 0, queued: 0, waiting: 0 });
    expect(store.get('t-1')?.result?.status).toBe('ok');
  });
});

describe('cancelling a spilled task', () => {
  const setUp = () => {
    const store = new ObjectStore();
    const sentCancels: Array<[string, string]> = [];
    const spilling = { ...cluster, cancelRemote: (nodeId: string, taskId: string) => void sentCancels.push([nodeId, taskId]) };
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: 1 }, store, fakePool([]), spilling);
    return { store, scheduler, sentCancels };
  };
  // Needs a resource this node lacks: spilled, and the head places it.
  const elsewhere = (taskId: string): TaskSpec => ({ ...task(taskId), resources: { CPU: 1, b: 1 } });

  it('stops it where the head placed it, also when the cancel came while the head was placing it', () => {
    const { store, scheduler, sentCancels } = setUp();
    scheduler.submit(elsewhere('t-placed'), 'driver-1');
    scheduler.placedOn('t-placed', 'node-bbbbbbbbbbbb');
    expect(scheduler.cancel('t-placed')).toBe(true);
    scheduler.submit(elsewhere('t-placing'), 'driver-1');
    expect(scheduler.cancel('t-placing')).toBe(true);
    expect(sentCancels).toEqual([['node-bbbbbbbbbbbb', 't-placed']]);
    scheduler.placedOn('t-placing', 'node-cccccccccccc');
    expect(sentCancels).toEqual([['node-bbbbbbbbbbbb', 't-placed'], ['node-cccccccccccc', 't-placing']]);
    expect(store.get('t-placing')?.result).toMatchObject({ status: 'error', error: { code: 'TASK_CANCELLED' } });
    // Told once: a second placement word changes nothing.
    scheduler.placedOn('t-placing', 'node-cccccccccccc');
    expect(sentCancels).toHaveLength(2);
  });

  it('cancels, as it arrives, a task its owner cancelled before the head forwarded it here', () => {
    const { store, scheduler } = setUp();
    scheduler.cancelAhead('t-late');
    scheduler.submit(task('t-late'), 'peer:node-bbbbbbbbbbbb', 'node-bbbbbbbbbbbb');
    expect(store.get('t-late')?.result).toMatchObject({ status: 'error', error: { code: 'TASK_CANCELLED' } });
    expect(scheduler.counts()).toMatchObject({ running: 0, queued: 0, waiting: 0 });
    // Only once: the same id submitted again runs.
    scheduler.submit(task('t-late'), 'peer:node-bbbbbbbbbbbb', 'node-bbbbbbbbbbbb');
    expect(scheduler.counts()).toMatchObject({ queued: 1 });
  });
});

/** A call of an async function whose calls may overlap, up to `maxConcurrency` in one worker. */
const overlapping = (taskId: string, maxConcurrency: number, maxRetries = 0): TaskSpec => ({
  ...task(taskId), fn: { module: 'tasks.ts', name: 'download' }, name: 'download', maxConcurrency, maxRetries,
});

/** The ids of the tasks a worker was sent, with whether each joined running calls. */
const executed = (worker: { sent: NodeMessage[] }): string[] =>
  worker.sent.flatMap((m) => (m.type === 'execute-task' ? [`${m.task.taskId}${m.join === true ? ' (join)' : ''}`] : []));

const ok = { status: 'ok', value: encode(null) } as const;

describe('overlapping calls (maxConcurrency)', () => {
  const setUp = (cpus = 2) => {
    const store = new ObjectStore();
    const workers = [fakeWorker('worker-1'), fakeWorker('worker-2')];
    const killed: WorkerHandle[] = [];
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: cpus }, store, fakePool(workers, killed), cluster);
    return { store, scheduler, killed, w1: workers[0]!, w2: workers[1]! };
  };

  it('gives a worker running calls of a function further calls of it, up to maxConcurrency, on the CPU of the first', () => {
    const { scheduler, w1, w2 } = setUp();
    for (let i = 1; i <= 5; i++) scheduler.submit(overlapping(`d-${i}`, 3), 'driver-1');
    expect(executed(w1)).toEqual(['d-1', 'd-2 (join)', 'd-3 (join)']);
    expect(executed(w2)).toEqual(['d-4', 'd-5 (join)']);
    expect(scheduler.available().CPU).toBe(0);
    expect(scheduler.counts()).toMatchObject({ running: 5, queued: 0 });
  });

  it('gives the CPU back when the last call of the group finishes, and refills a group that has room', () => {
    const { scheduler, w1, w2 } = setUp(1);
    for (let i = 1; i <= 4; i++) scheduler.submit(overlapping(`d-${i}`, 2), 'driver-1');
    expect(executed(w1)).toEqual(['d-1', 'd-2 (join)']);
    expect(scheduler.counts()).toMatchObject({ running: 2, queued: 2 });
    // One call done: the next joins the same worker, still on that one CPU.
    scheduler.taskDone(w1, 'd-1', ok, 100);
    expect(executed(w1)).toEqual(['d-1', 'd-2 (join)', 'd-3 (join)']);
    expect(scheduler.available().CPU).toBe(0);
    scheduler.taskDone(w1, 'd-2', ok, 100);
    scheduler.taskDone(w1, 'd-3', ok, 100);
    scheduler.taskDone(w1, 'd-4', ok, 100);
    expect(scheduler.available().CPU).toBe(1);
    expect(executed(w2)).toEqual([]);
  });

  it('never overlaps calls of a function with the default maxConcurrency of 1', () => {
    const { scheduler, w1, w2 } = setUp(1);
    for (let i = 1; i <= 3; i++) scheduler.submit({ ...task(`t-${i}`), maxConcurrency: 1 }, 'driver-1');
    expect([...executed(w1), ...executed(w2)]).toEqual(['t-1']);
  });

  it('keeps calls of different functions, jobs and resources in groups of their own', () => {
    const { scheduler, w1, w2 } = setUp();
    scheduler.submit(overlapping('d-1', 8), 'driver-1');
    scheduler.submit({ ...overlapping('e-1', 8), fn: { module: 'tasks.ts', name: 'other' } }, 'driver-1');
    scheduler.submit({ ...overlapping('d-2', 8), jobId: 'job-2' }, 'driver-1');
    scheduler.submit({ ...overlapping('d-3', 8), resources: { CPU: 0.5 } }, 'driver-1');
    expect(executed(w1)).toEqual(['d-1']);
    expect(executed(w2)).toEqual(['e-1']);
    expect(scheduler.counts()).toMatchObject({ running: 2, queued: 2 });
  });

  it('lends the CPU of a group only while every call in it waits in get', () => {
    const { scheduler, w1 } = setUp(1);
    scheduler.submit(overlapping('d-1', 4), 'driver-1');
    scheduler.submit(overlapping('d-2', 4), 'driver-1');
    scheduler.blocked('d-1');
    expect(scheduler.available().CPU).toBe(0);
    scheduler.blocked('d-2');
    expect(scheduler.available().CPU).toBe(1);
    scheduler.unblocked('d-1');
    expect(scheduler.available().CPU).toBe(0);
    scheduler.unblocked('d-2');
    scheduler.taskDone(w1, 'd-1', ok, 1);
    scheduler.taskDone(w1, 'd-2', ok, 1);
    expect(scheduler.available().CPU).toBe(1);
  });

  it('lets a task queued before later calls take the CPU once the group drains, not after them', () => {
    const { scheduler, w1 } = setUp(1);
    scheduler.submit(overlapping('d-1', 4), 'driver-1');
    scheduler.submit(task('t-1'), 'driver-1');
    scheduler.submit(overlapping('d-2', 4), 'driver-1');
    // d-2 has room beside d-1 but is queued behind t-1, which waits for the CPU.
    expect(executed(w1)).toEqual(['d-1']);
    scheduler.taskDone(w1, 'd-1', ok, 100);
    expect(executed(w1)).toEqual(['d-1', 't-1']);
  });

  it('fails only the cancelled one of several overlapping calls and keeps their worker, which takes nothing new meanwhile', () => {
    const { store, scheduler, killed, w1, w2 } = setUp(1);
    for (let i = 1; i <= 3; i++) scheduler.submit(overlapping(`d-${i}`, 3), 'driver-1');
    scheduler.submit(overlapping('d-4', 3), 'driver-1');
    expect(scheduler.cancel('d-2')).toBe(true);
    expect(store.get('d-2')?.result).toMatchObject({ status: 'error', error: { code: 'TASK_CANCELLED' } });
    expect(killed).toEqual([]);
    // Its room is not given to d-4 while its code may still be running there.
    expect(executed(w1)).toEqual(['d-1', 'd-2 (join)', 'd-3 (join)']);
    expect(executed(w2)).toEqual([]);
    // The cancelled call returned: its result is dropped, and the worker takes calls again.
    scheduler.taskDone(w1, 'd-2', ok, 100);
    expect(store.get('d-2')?.result?.status).toBe('error');
    expect(executed(w1)).toEqual(['d-1', 'd-2 (join)', 'd-3 (join)', 'd-4 (join)']);
    for (const id of ['d-1', 'd-3', 'd-4']) scheduler.taskDone(w1, id, ok, 100);
    expect(killed).toEqual([]);
    expect(scheduler.available().CPU).toBe(1);
  });

  it('ends the worker of a cancelled call still running once the calls beside it have finished', () => {
    const { scheduler, killed, w1 } = setUp(1);
    scheduler.submit(overlapping('d-1', 2), 'driver-1');
    scheduler.submit(overlapping('d-2', 2), 'driver-1');
    scheduler.cancel('d-1');
    expect(killed).toEqual([]);
    scheduler.taskDone(w1, 'd-2', ok, 100);
    expect(killed).toEqual([w1]);
    expect(scheduler.available().CPU).toBe(1);
  });

  it('ends the worker at once when the cancelled call runs alone in it, as for any task', () => {
    const { scheduler, killed, w1 } = setUp(1);
    scheduler.submit(overlapping('d-1', 2), 'driver-1');
    scheduler.cancel('d-1');
    expect(killed).toEqual([w1]);
  });

  it('retries every call of a group whose worker crashed, each within its own maxRetries', () => {
    const { store, scheduler, w1, w2 } = setUp(1);
    scheduler.submit(overlapping('d-1', 3, 1), 'driver-1');
    scheduler.submit(overlapping('d-2', 3, 0), 'driver-1');
    scheduler.submit(overlapping('d-3', 3, 1), 'driver-1');
    w1.state = 'dead';
    scheduler.workerExited(w1, 1);
    expect(store.get('d-2')?.result).toMatchObject({ status: 'error', error: { code: 'WORKER_CRASHED' } });
    expect(executed(w2)).toEqual(['d-1', 'd-3 (join)']);
    expect(scheduler.available().CPU).toBe(0);
    scheduler.taskDone(w2, 'd-1', ok, 1);
    scheduler.taskDone(w2, 'd-3', ok, 1);
    expect(scheduler.available().CPU).toBe(1);
  });
});

describe('the order of dispatch', () => {
  it('runs queued tasks first in, first out: a big task at the head of the queue holds back smaller ones behind it', () => {
    const store = new ObjectStore();
    const workers = [fakeWorker('worker-1'), fakeWorker('worker-2')];
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: 2 }, store, fakePool(workers), cluster);
    scheduler.submit(task('t-1'), 'driver-1');
    scheduler.submit({ ...task('t-big'), resources: { CPU: 2 } }, 'driver-1');
    scheduler.submit(task('t-2'), 'driver-1');
    const all = (): string[] => [...executed(workers[0]!), ...executed(workers[1]!)];
    expect(all()).toEqual(['t-1']);
    expect(scheduler.available().CPU).toBe(1);
    scheduler.taskDone(workers[0]!, 't-1', ok, 100);
    expect(all()).toEqual(['t-1', 't-big']);
    const bigOn = workers.find((w) => executed(w).includes('t-big'))!;
    scheduler.taskDone(bigOn, 't-big', ok, 100);
    expect(all()).toEqual(['t-1', 't-big', 't-2']);
  });

  it('holds a task until its ObjectRef arguments exist, and fails it with the error of one that failed, unrun', () => {
    const store = new ObjectStore();
    const worker = fakeWorker('worker-1');
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: 1 }, store, fakePool([worker]), cluster);
    store.addHolder('dep-ok', 'driver-1');
    store.addHolder('dep-bad', 'driver-1');
    scheduler.submit({ ...task('t-ok'), argRefs: [[0, 'dep-ok']] }, 'driver-1');
    scheduler.submit({ ...task('t-bad'), argRefs: [[0, 'dep-bad'], [1, 'dep-ok']] }, 'driver-1');
    expect(scheduler.counts()).toMatchObject({ waiting: 2, running: 0 });
    store.complete('dep-bad', { status: 'error', error: { code: 'TASK_ERROR', message: 'upstream threw' } });
    expect(store.get('t-bad')?.result).toMatchObject({ status: 'error', error: { message: 'upstream threw' } });
    store.complete('dep-ok', ok);
    expect(executed(worker)).toEqual(['t-ok']);
  });
});

describe('tasks spilled to other nodes', () => {
  /** Needs a resource this node lacks: spilled at once, and the head places it. */
  const elsewhere = (taskId: string, maxRetries = 0): TaskSpec => ({ ...task(taskId), resources: { CPU: 1, b: 1 }, maxRetries });
  const setUp = () => {
    const store = new ObjectStore();
    const spilled: string[] = [];
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: 1 }, store, fakePool([]), { ...cluster, spill: (spec: TaskSpec) => void spilled.push(spec.taskId) });
    return { store, scheduler, spilled };
  };

  it('runs a spilled task again, charged one retry, when the node it was placed on dies, and fails it with NodeDiedError past maxRetries', () => {
    const { store, scheduler, spilled } = setUp();
    scheduler.submit(elsewhere('t-retry', 1), 'driver-1');
    scheduler.submit(elsewhere('t-once', 0), 'driver-1');
    scheduler.submit(elsewhere('t-other', 0), 'driver-1');
    scheduler.placedOn('t-retry', 'node-bbbbbbbbbbbb');
    scheduler.placedOn('t-once', 'node-bbbbbbbbbbbb');
    scheduler.placedOn('t-other', 'node-cccccccccccc');
    scheduler.nodeDied('node-bbbbbbbbbbbb');
    expect(spilled).toEqual(['t-retry', 't-once', 't-other', 't-retry']);
    expect(store.get('t-once')?.result).toMatchObject({ status: 'error', error: { code: 'NODE_DIED', message: expect.stringMatching(/after 0 retries \(maxRetries 0\)/) } });
    expect(store.get('t-other')?.result).toBeUndefined();
    // Its second placement dies too: its one retry is spent.
    scheduler.placedOn('t-retry', 'node-dddddddddddd');
    scheduler.nodeDied('node-dddddddddddd');
    expect(store.get('t-retry')?.result).toMatchObject({ status: 'error', error: { code: 'NODE_DIED' } });
  });

  it('re-runs the task that made an object whose only copy was on a node that died (lineage), until the object is freed', () => {
    const { store, scheduler, spilled } = setUp();
    scheduler.submit(elsewhere('t-1'), 'driver-1');
    scheduler.placedOn('t-1', 'node-bbbbbbbbbbbb');
    scheduler.spilledDone('t-1', { objectId: 't-1', nodeId: 'node-bbbbbbbbbbbb', size: 1_000_000 });
    expect(store.get('t-1')?.location?.nodeId).toBe('node-bbbbbbbbbbbb');
    expect(scheduler.counts()).toMatchObject({ spilled: 0 });
    expect(scheduler.rebuild('t-1')).toBe(true);
    expect(spilled).toEqual(['t-1', 't-1']);
    expect(store.get('t-1')).toMatchObject({ location: undefined, seq: 0 });
    expect(scheduler.counts()).toMatchObject({ spilled: 1 });
    // Rebuilt once: its lineage is taken; and an object no spilled task made has none.
    expect(scheduler.rebuild('t-1')).toBe(false);
    expect(scheduler.rebuild('t-unknown')).toBe(false);
    // A freed object's lineage is forgotten.
    scheduler.placedOn('t-1', 'node-cccccccccccc');
    scheduler.spilledDone('t-1', { objectId: 't-1', nodeId: 'node-cccccccccccc', size: 1_000_000 });
    scheduler.forget('t-1');
    expect(scheduler.rebuild('t-1')).toBe(false);
  });

  it('spills the longest-waiting queued task when this node is saturated and others reported room, no more than that room until they report again', () => {
    const store = new ObjectStore();
    const spilled: string[] = [];
    const link = { ...cluster, spill: (spec: TaskSpec) => void spilled.push(spec.taskId), remoteView: () => ({ free: 1, cpus: 1, queued: 0 }) };
    const worker = fakeWorker('worker-1');
    const scheduler = new LocalScheduler('node-aaaaaaaaaaaa', { CPU: 1 }, store, fakePool([worker]), link);
    scheduler.submit(task('t-1'), 'driver-1');
    scheduler.submit(task('t-2'), 'driver-1');
    expect(spilled).toEqual([]); // one queued per CPU: not saturated
    scheduler.submit(task('t-3'), 'driver-1');
    expect(spilled).toEqual(['t-2']);
    scheduler.submit(task('t-4'), 'driver-1');
    expect(spilled).toEqual(['t-2']); // the room reported is taken
    scheduler.viewUpdated();
    expect(spilled).toEqual(['t-2', 't-3']);
    // A task the head placed here stays, however long the queue.
    scheduler.submit(task('t-placed'), 'peer:node-bbbbbbbbbbbb', 'node-bbbbbbbbbbbb');
    scheduler.submit(task('t-5'), 'driver-1');
    scheduler.viewUpdated();
    expect(spilled).toEqual(['t-2', 't-3', 't-4']);
    expect(executed(worker)).toEqual(['t-1']);
  });

  it('fails with TASK_UNSCHEDULABLE a task the head placed here that this node cannot run, instead of spilling it again', () => {
    const { store, scheduler, spilled } = setUp();
    scheduler.submit({ ...task('t-placed'), resources: { CPU: 4 } }, 'peer:node-bbbbbbbbbbbb', 'node-bbbbbbbbbbbb');
    expect(spilled).toEqual([]);
    expect(store.get('t-placed')?.result).toMatchObject({ status: 'error', error: { code: 'TASK_UNSCHEDULABLE' } });
  });
});
