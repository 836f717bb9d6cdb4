/**
 * The nodes of the cluster, their total and available resources. A node declared dead (it left,
 * missed its heartbeats, or stopped) stays listed, marked dead, among the last MAX_DEAD_NODES
 * dead ones; older ones are forgotten. (Fencing does not need them: a node the head declared dead
 * learns it by the head's instance id, see Head.)
 */
import { amountOf, sumOf, type NodeStats, type PeerInfo, type ResourceSet } from '@weft/protocol';

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

/** A set with a random member in O(1): an array and each member's index in it. */
export class SampledSet<T> {
  readonly #items: T[] = [];
  readonly #index = new Map<T, number>();

  get size(): number {
    return this.#items.length;
  }

  add(item: T): void {
    if (this.#index.has(item)) return;
    this.#index.set(item, this.#items.length);
    this.#items.push(item);
  }

  delete(item: T): void {
    const at = this.#index.get(item);
    if (at === undefined) return;
    const last = this.#items.pop() as T;
    this.#index.delete(item);
    if (last !== item) {
      this.#items[at] = last;
      this.#index.set(last, at);
    }
  }

  /** A member drawn at random (undefined when empty). */
  random(): T | undefined {
    return this.#items[Math.floor(Math.random() * this.#items.length)];
  }

  values(): readonly T[] {
    return this.#items;
  }
}

export class NodeRegistry {
  readonly #nodes = new Map<string, NodeRecord>();
  /** Ids of dead nodes, oldest first. */
  readonly #dead = new Set<string>();
  /** The live nodes. */
  readonly live = new SampledSet<NodeRecord>();
  /** The live nodes with a CPU free, as last reported or counted since (see `changed`). */
  readonly withFreeCpu = new SampledSet<NodeRecord>();

  register(info: PeerInfo): NodeRecord {
    const now = Date.now();
    const record: NodeRecord = { ...info, available: { ...info.resources }, registeredAt: now, lastHeartbeat: now, alive: true, stats: undefined };
    const previous = this.#nodes.get(info.nodeId);
    if (previous) this.#forget(previous);
    this.#nodes.set(info.nodeId, record);
    this.#dead.delete(info.nodeId);
    this.live.add(record);
    this.changed(record);
    return record;
  }

  /** A node's available resources changed (a report, or a placement counted against them). */
  changed(record: NodeRecord): void {
    if (record.alive && amountOf(record.available, 'CPU') > 0) this.withFreeCpu.add(record);
    else this.withFreeCpu.delete(record);
  }

  #forget(record: NodeRecord): void {
    this.live.delete(record);
    this.withFreeCpu.delete(record);
  }

  /** Declare a node dead; false when it was not alive. */
  died(nodeId: string, cause: string): boolean {
    const record = this.#nodes.get(nodeId);
    if (!record || !record.alive) return false;
    record.alive = false;
    record.diedAt = Date.now();
    record.deathCause = cause;
    record.available = {};
    this.#forget(record);
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
    this.changed(record);
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
