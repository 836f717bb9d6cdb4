import { describe, expect, it } from 'vitest';
import { GlobalScheduler } from '../src/global-scheduler.ts';
import { NodeRegistry } from '../src/node-registry.ts';

describe('the global scheduler', () => {
  it('places nothing asking for a resource named like a property of Object on a node without it', () => {
    const nodes = new NodeRegistry();
    nodes.register({ nodeId: 'node-a', address: '', resources: { CPU: 4 } });
    const scheduler = new GlobalScheduler(nodes);
    expect(scheduler.place({ constructor: 1 })).toBeNull();
    expect(scheduler.place({ CPU: 1 })).toBe('node-a');
    expect(Object.getPrototypeOf(nodes.get('node-a')!.available)).toBe(Object.prototype);
    expect(nodes.totals()).toEqual({ CPU: 4 });
  });

  it('sums a resource named constructor as a number', () => {
    const nodes = new NodeRegistry();
    nodes.register({ nodeId: 'node-a', address: '', resources: { CPU: 1, constructor: 1 } });
    nodes.register({ nodeId: 'node-b', address: '', resources: { CPU: 1, constructor: 2 } });
    expect(nodes.totals()).toEqual({ CPU: 2, constructor: 3 });
    expect(new GlobalScheduler(nodes).place({ constructor: 2 })).toBe('node-b');
  });
});

/** A node as the head last heard of it. */
interface NodeCase {
  id: string;
  resources: Record<string, number>;
  /** Free now; absent: all of them. */
  free?: Record<string, number>;
  /** Tasks queued there at its last heartbeat. */
  queued?: number;
  dead?: boolean;
}

function registry(cases: NodeCase[]): NodeRegistry {
  const nodes = new NodeRegistry();
  for (const c of cases) {
    nodes.register({ nodeId: c.id, address: '', resources: c.resources });
    if (c.free || c.queued !== undefined) {
      nodes.heartbeat(c.id, c.free ?? c.resources, { objects: 0, objectBytes: 0, workers: 1, actors: 0, queued: c.queued ?? 0, running: 0 });
    }
    if (c.dead) nodes.died(c.id, 'gone');
  }
  return nodes;
}

describe('where the global scheduler places a task', () => {
  const cases: Array<{ title: string; nodes: NodeCase[]; needs: Record<string, number>; hints?: { bytes?: Record<string, number>; avoid?: string }; expected: string | null }> = [
    { title: 'a node with the resources free before a bigger busy one',
      nodes: [{ id: 'busy', resources: { CPU: 16 }, free: { CPU: 0 } }, { id: 'idle', resources: { CPU: 2 } }], needs: { CPU: 1 }, expected: 'idle' },
    { title: 'among free nodes, the one holding most of the argument bytes',
      nodes: [{ id: 'a', resources: { CPU: 8 } }, { id: 'b', resources: { CPU: 2 } }], needs: { CPU: 1 }, hints: { bytes: { b: 1_000_000 } }, expected: 'b' },
    { title: 'a free node without the bytes before a busy one with them',
      nodes: [{ id: 'a', resources: { CPU: 2 } }, { id: 'b', resources: { CPU: 2 }, free: { CPU: 0 } }], needs: { CPU: 1 }, hints: { bytes: { b: 1e9 } }, expected: 'a' },
    { title: 'among free nodes without bytes, the one with most CPUs free',
      nodes: [{ id: 'a', resources: { CPU: 4 }, free: { CPU: 1 } }, { id: 'b', resources: { CPU: 4 }, free: { CPU: 3 } }], needs: { CPU: 1 }, expected: 'b' },
    { title: 'among busy nodes, the one with the fewest queued tasks per CPU',
      nodes: [{ id: 'a', resources: { CPU: 2 }, free: { CPU: 0 }, queued: 6 }, { id: 'b', resources: { CPU: 8 }, free: { CPU: 0 }, queued: 8 }], needs: { CPU: 1 }, expected: 'b' },
    { title: 'not the node that spilled it while another could run it, even busy',
      nodes: [{ id: 'spiller', resources: { CPU: 8 } }, { id: 'other', resources: { CPU: 1 }, free: { CPU: 0 } }], needs: { CPU: 1 }, hints: { avoid: 'spiller' }, expected: 'other' },
    { title: 'back to the node that spilled it when no other could ever run it',
      nodes: [{ id: 'spiller', resources: { CPU: 1, gpu: 1 } }, { id: 'other', resources: { CPU: 8 } }], needs: { gpu: 1 }, hints: { avoid: 'spiller' }, expected: 'spiller' },
    { title: 'never a dead node',
      nodes: [{ id: 'dead', resources: { CPU: 64 }, dead: true }, { id: 'live', resources: { CPU: 1 }, free: { CPU: 0 } }], needs: { CPU: 1 }, expected: 'live' },
    { title: 'nowhere when no live node is big enough',
      nodes: [{ id: 'a', resources: { CPU: 2 } }, { id: 'dead', resources: { CPU: 8 }, dead: true }], needs: { CPU: 4 }, expected: null },
  ];
  for (const c of cases) {
    it(`prefers ${c.title}`, () => {
      const scheduler = new GlobalScheduler(registry(c.nodes));
      const bytesOnNode = c.hints?.bytes ? new Map(Object.entries(c.hints.bytes)) : undefined;
      expect(scheduler.place(c.needs, { ...(bytesOnNode ? { bytesOnNode } : {}), ...(c.hints?.avoid ? { avoid: c.hints.avoid } : {}) })).toBe(c.expected);
    });
  }

  it('counts what it placed against a node until its next report, so that a burst spreads', () => {
    const nodes = registry([{ id: 'a', resources: { CPU: 2 } }, { id: 'b', resources: { CPU: 2 } }]);
    const scheduler = new GlobalScheduler(nodes);
    const placed = [1, 2, 3, 4].map(() => scheduler.place({ CPU: 1 }));
    expect(placed.filter((n) => n === 'a')).toHaveLength(2);
    expect(placed.filter((n) => n === 'b')).toHaveLength(2);
    expect(nodes.get('a')?.available).toEqual({ CPU: 0 });
    // Full everywhere: the next ones queue where the fewest wait per CPU, counted as they go.
    nodes.heartbeat('a', { CPU: 0 }, { objects: 0, objectBytes: 0, workers: 2, actors: 0, queued: 0, running: 2 });
    nodes.heartbeat('b', { CPU: 0 }, { objects: 0, objectBytes: 0, workers: 2, actors: 0, queued: 0, running: 2 });
    const queuedOn = [1, 2, 3, 4].map(() => scheduler.place({ CPU: 1 }));
    expect(queuedOn.filter((n) => n === 'a')).toHaveLength(2);
    expect(nodes.get('a')?.stats?.queued).toBe(2);
    expect(nodes.get('b')?.stats?.queued).toBe(2);
  });
});

describe('placement in a large cluster (sampled)', () => {
  const large = (n: number, free: (i: number) => number, extra: (i: number) => Record<string, number> = () => ({})) => {
    const nodes = new NodeRegistry();
    for (let i = 0; i < n; i++) {
      nodes.register({ nodeId: `node-${i}`, address: '', resources: { CPU: 1, ...extra(i) } });
      nodes.heartbeat(`node-${i}`, { CPU: free(i), ...extra(i) }, { objects: 0, objectBytes: 0, workers: 1, actors: 0, queued: free(i) ? 0 : 1, running: 1 - free(i) } as never);
    }
    return nodes;
  };

  it('finds the one node with a CPU free among 200 busy ones, and a resource only one node has', () => {
    const nodes = large(200, (i) => (i === 137 ? 1 : 0), (i): Record<string, number> => (i === 42 ? { gpu: 1 } : {}));
    const scheduler = new GlobalScheduler(nodes);
    expect(nodes.withFreeCpu.size).toBe(1);
    expect(scheduler.place({ CPU: 1 })).toBe('node-137');
    // Counted as taken: it is no longer free, and the next task goes to some busy node.
    expect(nodes.withFreeCpu.size).toBe(0);
    expect(scheduler.place({ CPU: 1 })).toMatch(/^node-\d+$/);
    expect(scheduler.place({ gpu: 1 })).toBe('node-42');
    expect(scheduler.place({ tpu: 1 })).toBeNull();
  });

  it('spreads a burst over the free nodes, never onto a busy one while one is free; a dead node leaves the sample', () => {
    const nodes = large(100, (i) => (i % 2 === 0 ? 1 : 0));
    const scheduler = new GlobalScheduler(nodes);
    nodes.died('node-0', 'test');
    const placed = Array.from({ length: 49 }, () => scheduler.place({ CPU: 1 }));
    expect(new Set(placed).size).toBe(49);
    expect(placed.every((id) => Number(id?.slice(5)) % 2 === 0 && id !== 'node-0')).toBe(true);
  });

  it('prefers the node holding the task\'s bytes when it is free', () => {
    const nodes = large(100, () => 1);
    expect(new GlobalScheduler(nodes).place({ CPU: 1 }, { bytesOnNode: new Map([['node-77', 10_000_000]]) })).toBe('node-77');
  });
});
