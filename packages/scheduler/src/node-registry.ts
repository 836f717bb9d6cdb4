/**
 * The nodes of the cluster, their total and available resources.
 */
import type { NodeInfo, ResourceSet } from '@weft/core';

/** A registered node. */
export interface NodeRecord extends NodeInfo {
  /** Resources not held by running tasks and actors, as the node last reported. */
  available: ResourceSet;
  /** When the node registered (ms since epoch). */
  registeredAt: number;
}

export class NodeRegistry {
  readonly #nodes = new Map<string, NodeRecord>();

  register(info: NodeInfo): NodeRecord {
    const record: NodeRecord = { ...info, available: { ...info.resources }, registeredAt: Date.now() };
    this.#nodes.set(info.nodeId, record);
    return record;
  }

  unregister(nodeId: string): boolean {
    return this.#nodes.delete(nodeId);
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.#nodes.get(nodeId);
  }

  reportAvailable(nodeId: string, available: ResourceSet): void {
    const record = this.#nodes.get(nodeId);
    if (record) record.available = { ...available };
  }

  all(): NodeRecord[] {
    return [...this.#nodes.values()];
  }

  /** Sum of every node's total resources. */
  totals(): ResourceSet {
    const totals: ResourceSet = {};
    for (const node of this.#nodes.values()) {
      for (const [name, amount] of Object.entries(node.resources)) totals[name] = (totals[name] ?? 0) + amount;
    }
    return totals;
  }
}
