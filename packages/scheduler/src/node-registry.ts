/**
 * The nodes of the cluster, their total and available resources.
 */
import type { NodeStats, PeerInfo, ResourceSet } from '@weft/core';

/** A registered node. */
export interface NodeRecord extends PeerInfo {
  /** Resources not held by running tasks and actors, as the node last reported. */
  available: ResourceSet;
  /** When the node registered (ms since epoch). */
  registeredAt: number;
  /** When its last heartbeat arrived (ms since epoch). */
  lastHeartbeat: number;
  /** False once the node left or missed its heartbeats. */
  alive: boolean;
  /** Counts from its last heartbeat. */
  stats: NodeStats | undefined;
}

export class NodeRegistry {
  readonly #nodes = new Map<string, NodeRecord>();

  register(info: PeerInfo): NodeRecord {
    const now = Date.now();
    const record: NodeRecord = { ...info, available: { ...info.resources }, registeredAt: now, lastHeartbeat: now, alive: true, stats: undefined };
    this.#nodes.set(info.nodeId, record);
    return record;
  }

  unregister(nodeId: string): boolean {
    return this.#nodes.delete(nodeId);
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.#nodes.get(nodeId);
  }

  heartbeat(nodeId: string, available: ResourceSet, stats: NodeStats): void {
    const record = this.#nodes.get(nodeId);
    if (!record) return;
    record.available = { ...available };
    record.stats = stats;
    record.lastHeartbeat = Date.now();
  }

  /** The nodes alive, as peers see them. */
  peers(): PeerInfo[] {
    return this.all().filter((node) => node.alive).map(({ nodeId, address, resources, available, stats }) => ({
      nodeId, address, resources, available, ...(stats ? { queued: stats.queued } : {}),
    }));
  }

  all(): NodeRecord[] {
    return [...this.#nodes.values()];
  }

  /** Sum of every live node's total resources. */
  totals(): ResourceSet {
    const totals: ResourceSet = {};
    for (const node of this.#nodes.values()) {
      if (!node.alive) continue;
      for (const [name, amount] of Object.entries(node.resources)) totals[name] = (totals[name] ?? 0) + amount;
    }
    return totals;
  }
}
