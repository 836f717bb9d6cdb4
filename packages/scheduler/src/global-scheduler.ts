/**
 * Places what a node cannot run itself: a task spilled by a saturated node, one that asks for a
 * resource its node lacks, and every actor. Among the nodes that could ever run it, it prefers
 * one that has the resources free now, then the one holding most of the task's argument bytes
 * (moving code is cheaper than moving data), then the one with the most free CPUs. It answers
 * null when no node could ever run it.
 */
import { amountOf, fits, take, type ResourceSet } from '@weft/protocol';
import type { NodeRecord, NodeRegistry } from './node-registry.ts';

/**
 * Nodes scored per placement in a larger cluster: this many drawn at random from those with a CPU
 * free (or from all live nodes when none has), plus the nodes holding the task's argument bytes.
 * Only when none of them could ever run it are all nodes looked at. A cluster this small or
 * smaller is scored whole. (Sampling keeps the head's work per placement flat in the cluster's
 * size, as the power of d choices keeps load balanced.)
 */
export const SAMPLED_NODES = 16;

/** What the scheduler may weigh besides resources. */
export interface PlacementHints {
  /** Bytes of the task's arguments already on each node. */
  bytesOnNode?: Map<string, number>;
  /** A node not to pick (the one that spilled the task, when it cannot run it now). */
  avoid?: string;
}

export class GlobalScheduler {
  readonly #nodes: NodeRegistry;
  constructor(nodes: NodeRegistry) {
    this.#nodes = nodes;
  }

  /** The node to run something needing `resources`, or null when none is big enough. */
  place(resources: ResourceSet, hints: PlacementHints = {}): string | null {
    const live = this.#nodes.live;
    const best = live.size <= SAMPLED_NODES ? this.#best(live.values(), resources, hints)
      : this.#best(this.#sample(hints), resources, hints) ?? this.#best(live.values(), resources, hints);
    if (!best) return null;
    // Count it against the node's free resources until its next report, so that a burst of
    // spilled tasks spreads instead of piling onto the node that looked freest.
    take(best.available, resources);
    for (const name of Object.keys(resources)) if (amountOf(best.available, name) < 0) best.available[name] = 0;
    if (best.stats && !fits(resources, best.available)) best.stats.queued += 1;
    this.#nodes.changed(best);
    return best.nodeId;
  }

  #sample(hints: PlacementHints): NodeRecord[] {
    const picked = new Set<NodeRecord>();
    for (const nodeId of hints.bytesOnNode?.keys() ?? []) {
      const node = this.#nodes.get(nodeId);
      if (node?.alive) picked.add(node);
    }
    const pool = this.#nodes.withFreeCpu.size > 0 ? this.#nodes.withFreeCpu : this.#nodes.live;
    for (let i = 0; i < SAMPLED_NODES; i++) picked.add(pool.random() as NodeRecord);
    return [...picked];
  }

  #best(nodes: Iterable<NodeRecord>, resources: ResourceSet, hints: PlacementHints): NodeRecord | undefined {
    let best: NodeRecord | undefined;
    let bestScore = -Infinity;
    for (const node of nodes) {
      if (!node.alive || !fits(resources, node.resources)) continue;
      const free = fits(resources, node.available) ? 1 : 0;
      const bytes = hints.bytesOnNode?.get(node.nodeId) ?? 0;
      // Among busy nodes, the least loaded: queued tasks per CPU, as reported and placed since.
      const load = (node.stats?.queued ?? 0) / Math.max(1, amountOf(node.resources, 'CPU') || 1);
      // The node that spilled a task is saturated whatever its last report said: it gets the task
      // back only when no other node could run it.
      const score = (node.nodeId === hints.avoid ? 0 : 1e16) + free * 1e15 + bytes * 10 + amountOf(node.available, 'CPU') * 1e6 - load * 1e6;
      if (score > bestScore) {
        best = node;
        bestScore = score;
      }
    }
    return best;
  }
}
