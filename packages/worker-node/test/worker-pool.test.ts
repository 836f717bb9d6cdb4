/**
 * Which busy worker takes a tiny task ahead (WorkerPool.pipelineWorker), on fake worker handles:
 * a backlog is refilled once it is down to half, up to the depth within one dispatch pass, so
 * tasks go ahead in batches rather than one per task that ended.
 */
import { describe, expect, it } from 'vitest';
import { WorkerPool, type WorkerHandle } from '../src/worker-pool.ts';

const CPU = { CPU: 1 };

function busy(id: string, backlog: number): WorkerHandle {
  return {
    id, role: 'task', state: 'ready', cancelled: new Set(), active: 1, shape: CPU, aheadUntil: Number.POSITIVE_INFINITY,
    refillPass: -1, backlog: Array.from({ length: backlog }, (_, i) => `t-${i}`),
  } as unknown as WorkerHandle;
}

function pool(...workers: WorkerHandle[]): WorkerPool {
  const p = new WorkerPool({ nodeId: 'n', jobId: 'j', localJobId: undefined, workingDir: '.', minWorkers: 0, maxWorkers: 0, preload: [],
    onMessage: () => {}, onReady: () => {}, onExit: () => {} });
  for (const worker of workers) p.workers.set(worker.id, worker);
  return p;
}

describe('WorkerPool.pipelineWorker', () => {
  it('refills a backlog only once it is down to half the depth, then to the full depth in that pass', () => {
    const w = busy('w-1', 9);
    const p = pool(w);
    expect(p.pipelineWorker(CPU, 16, 1)).toBeUndefined();
    w.backlog.pop(); // 8 left: half of 16
    let pass = 2;
    const taken: Array<WorkerHandle | undefined> = [];
    for (let i = 0; i < 10; i++) {
      const chosen = p.pipelineWorker(CPU, 16, pass);
      taken.push(chosen);
      if (chosen) chosen.backlog.push(`ahead-${i}`);
    }
    expect(taken.filter(Boolean)).toHaveLength(8);
    expect(w.backlog).toHaveLength(16);
    // The next pass (one task ended) sends nothing until it is down to half again.
    w.backlog.shift();
    pass += 1;
    expect(p.pipelineWorker(CPU, 16, pass)).toBeUndefined();
  });

  it('picks the shortest backlog among those that may take one, of the same resources', () => {
    const a = busy('w-a', 6);
    const b = busy('w-b', 3);
    const other = { ...busy('w-c', 0), shape: { CPU: 2 } } as WorkerHandle;
    expect(pool(a, b, other).pipelineWorker(CPU, 16, 1)).toBe(b);
  });
});
