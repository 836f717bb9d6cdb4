/**
 * The nodes of the cluster, their total and available resources. A node declared dead (it left,
 * missed its heartbeats, or stopped) stays listed, marked dead, among the last MAX_DEAD_NODES
 * dead ones; older ones are forgotten. (Fencing does not need them: a node the head declared dead
 * learns it by the head's instance id, see Head.)
 */
import { sumOf, type NodeStats, type PeerInfo, type ResourceSet } from '@weft/protocol';

/** Dead nodes remembered for `weft status` before the oldest are forgotten. */
export const MAX_DEAD_NODES = 10;

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
  /** When it was declared dead (ms since epoch) and why; absent while alive. */
  diedAt?: number;
  deathCause?: string;
  /** Counts from its last heartbeat. */
  stats: NodeStats | undefined;
}

export class NodeRegistry {
  readonly #nodes = new Map<string, NodeRecord>();
  /** Ids of dead nodes, oldest first. */
  readonly #dead = new Set<string>();

  register(info: PeerInfo): NodeRecord {
    const now = Date.now();
    const record: NodeRecord = { ...info, available: { ...info.resources }, registeredAt: now, lastHeartbeat: now, alive: true, stats: undefined };
    this.#nodes.set(info.nodeId, record);
    this.#dead.delete(info.nodeId);
    return record;
  }

  /** Declare a node dead; false when it was not alive. */
  died(nodeId: string, cause: string): boolean {
    const record = this.#nodes.get(nodeId);
    if (!record || !record.alive) return false;
    record.alive = false;
    record.diedAt = Date.now();
    record.deathCause = cause;
    record.available = {};
    this.#dead.add(nodeId);
    for (const oldest of this.#dead) {
      if (this.#dead.size <= MAX_DEAD_NODES) break;
      this.#dead.delete(oldest);
      this.#nodes.delete(oldest);
    }
    return true;
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
    return sumOf([...this.#nodes.values()].filter((node) => node.alive).map((node) => node.resources));
  }
}
