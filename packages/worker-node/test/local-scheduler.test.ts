import { describe, expect, it } from 'vitest';
import { encode, type NodeMessage, type TaskSpec } from '@weft/core';
import { LocalScheduler } from '../src/local-scheduler.ts';
import { ObjectStore } from '../src/object-store.ts';
import type { WorkerHandle, WorkerPool } from '../src/worker-pool.ts';

/** A worker the scheduler can assign to: it records what it is sent. */
function fakeWorker(id: string): WorkerHandle & { sent: NodeMessage[] } {
  const sent: NodeMessage[] = [];
  return {
    id, role: 'task', state: 'ready', tasks: new Set<string>(), backlog: [], active: 0, shape: undefined, aheadUntil: 0,
    killedFor: undefined, lastError: undefined, sent, conn: { send: (message: NodeMessage) => sent.push(message) },
  } as unknown as WorkerHandle & { sent: NodeMessage[] };
}

/** A pool of given workers that never grows. */
function fakePool(workers: WorkerHandle[]): WorkerPool {
  return {
    idleWorker: () => workers.find((w) => w.active === 0 && w.backlog.length === 0),
    pipelineWorker: () => undefined,
    canGrow: () => false,
    spawn: () => { throw new Error('the fake pool does not grow'); },
    kill: () => {},
  } as unknown as WorkerPool;
}

const cluster = { spill: () => {}, remoteView: () => ({ free: 0, cpus: 0, queued: 0 }), clusterResources: () => ({}), cancelRemote: () => {} };
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
