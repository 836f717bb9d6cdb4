/** The cluster at a glance: each node's CPU, memory and object store, now and over time. */
import type { LiveNode } from '@weft/protocol';
import { bytes } from '../format.ts';
import type { LiveStore } from '../store.ts';
import { NodeChart } from './chart.tsx';
import { Table } from './table.tsx';

const cpuUsed = (node: LiveNode): number => Math.max(0, (node.resources.CPU ?? 0) - (node.available.CPU ?? 0));

export function Overview({ store }: { store: LiveStore }) {
  const latest = store.samples.at(-1);
  const nodes = latest?.nodes ?? [];
  const rows = nodes.map((node) => [
    node.nodeId, node.address || '(beside the head)', node.alive ? 'alive' : 'dead',
    `${cpuUsed(node).toFixed(1)} / ${node.resources.CPU ?? 0}`,
    node.stats?.memoryBytes !== undefined ? `${bytes(node.stats.memoryBytes)} of ${bytes(node.stats.memoryTotalBytes)}` : '—',
    node.stats ? `${bytes(node.stats.objectBytes)} (${node.stats.objects})${node.stats.storeCapacityBytes ? ` of ${bytes(node.stats.storeCapacityBytes)}` : ''}` : '—',
    node.stats ? `${node.stats.running} / ${node.stats.queued}` : '—', node.stats?.workers ?? '—', node.stats?.actors ?? '—',
  ]);
  return (
    <section id="view-overview">
      <h2>Nodes</h2>
      <Table id="nodes-table" head={['node', 'address', 'state', 'CPU used', 'memory (rss)', 'object store', 'running / queued', 'workers', 'actors']}
        rows={rows} empty={store.connected ? 'waiting for the first sample…' : 'not connected'} />
      <div class="charts">
        <NodeChart title="CPU in use" samples={store.samples} measure={cpuUsed} format={(v) => v.toFixed(1)} floor={Math.max(1, ...nodes.map((node) => node.resources.CPU ?? 0))} />
        <NodeChart title="Memory (rss)" samples={store.samples} measure={(node) => node.stats?.memoryBytes ?? null} format={bytes} floor={1e6} />
        <NodeChart title="Object store" samples={store.samples} measure={(node) => node.stats?.objectBytes ?? null} format={bytes} floor={1e3} />
      </div>
    </section>
  );
}
