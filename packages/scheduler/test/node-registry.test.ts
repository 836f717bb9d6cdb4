/**
 * The head's node records: liveness, what peers and totals count, heartbeats, and the bounded
 * history of dead nodes (a node that registers again is live, not history).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeStats, PeerInfo } from '@weft/protocol';
import { MAX_DEAD_NODES, NodeRegistry } from '../src/node-registry.ts';

const info = (nodeId: string, cpus = 2): PeerInfo => ({ nodeId, address: `ws://${nodeId}:1`, resources: { CPU: cpus } });
const stats: NodeStats = { objects: 1, objectBytes: 10, workers: 2, actors: 0, queued: 3, running: 1 };

afterEach(() => {
  vi.useRealTimers();
});

describe('NodeRegistry', () => {
  it('declares a node dead once, with when and why, and no longer counts its resources', () => {
    vi.useFakeTimers({ now: 1_000 });
    const nodes = new NodeRegistry();
    nodes.register(info('node-a', 2));
    nodes.register(info('node-b', 4));
    expect(nodes.totals()).toEqual({ CPU: 6 });
    vi.setSystemTime(5_000);
    expect(nodes.died('node-a', 'missed heartbeats')).toBe(true);
    expect(nodes.died('node-a', 'again')).toBe(false);
    expect(nodes.died('node-unknown', 'never here')).toBe(false);
    expect(nodes.get('node-a')).toMatchObject({ alive: false, diedAt: 5_000, deathCause: 'missed heartbeats', registeredAt: 1_000 });
    expect(nodes.get('node-a')?.available).toEqual({});
    expect(nodes.totals()).toEqual({ CPU: 4 });
    expect(nodes.peers().map((p) => p.nodeId)).toEqual(['node-b']);
  });

  it('takes a heartbeat\'s free resources and counts, and shows peers what it took', () => {
    vi.useFakeTimers({ now: 1_000 });
    const nodes = new NodeRegistry();
    nodes.register(info('node-a', 2));
    expect(nodes.peers()).toEqual([{ nodeId: 'node-a', address: 'ws://node-a:1', resources: { CPU: 2 }, available: { CPU: 2 } }]);
    vi.setSystemTime(2_500);
    nodes.heartbeat('node-a', { CPU: 1 }, stats);
    nodes.heartbeat('node-unknown', { CPU: 8 }, stats);
    expect(nodes.get('node-a')).toMatchObject({ lastHeartbeat: 2_500, available: { CPU: 1 }, stats });
    expect(nodes.peers()).toEqual([{ nodeId: 'node-a', address: 'ws://node-a:1', resources: { CPU: 2 }, available: { CPU: 1 }, queued: 3 }]);
    expect(nodes.get('node-unknown')).toBeUndefined();
  });

  it(`remembers the last ${MAX_DEAD_NODES} dead nodes and forgets older ones, never a live one`, () => {
    const nodes = new NodeRegistry();
    nodes.register(info('live'));
    for (let i = 0; i < MAX_DEAD_NODES + 2; i++) {
      nodes.register(info(`dead-${i}`));
      nodes.died(`dead-${i}`, 'left');
    }
    const ids = nodes.all().map((n) => n.nodeId);
    expect(ids).toHaveLength(MAX_DEAD_NODES + 1);
    expect(ids).toContain('live');
    expect(ids).not.toContain('dead-1');
    expect(ids).toContain('dead-2');
    expect(MAX_DEAD_NODES).toBe(10);
  });

  it('treats a dead node that registers again as live: later deaths of others do not forget it', () => {
    const nodes = new NodeRegistry();
    nodes.register(info('node-a'));
    nodes.died('node-a', 'restarting');
    nodes.register(info('node-a'));
    expect(nodes.get('node-a')?.alive).toBe(true);
    for (let i = 0; i < MAX_DEAD_NODES + 1; i++) {
      nodes.register(info(`dead-${i}`));
      nodes.died(`dead-${i}`, 'left');
    }
    expect(nodes.get('node-a')?.alive).toBe(true);
    expect(nodes.died('node-a', 'left')).toBe(true);
  });
});
