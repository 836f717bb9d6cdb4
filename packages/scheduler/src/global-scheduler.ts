/**
 * Places what a node cannot run itself: a task spilled by a saturated node, or one that asks for
 * a resource its node lacks. Picks a feasible node, preferring the one with the most free
 * resources relative to the request; answers null when no node could ever run it.
 */
import type { ResourceSet } from '@weft/core';
import type { NodeRecord, NodeRegistry } from './node-registry.ts';

/** Whether `have` covers every amount in `need`. */
export function fits(need: ResourceSet, have: ResourceSet): boolean {
  for (const [name, amount] of Object.entries(need)) {
    if (amount > 0 && (have[name] ?? 0) < amount) return false;
  }
  return true;
}

export class GlobalScheduler {
  readonly #nodes: NodeRegistry;
  constructor(nodes: NodeRegistry) {
    this.#nodes = nodes;
  }

  /** The node to run a task needing `resources`, or null when none is big enough. */
  place(resources: ResourceSet, exclude?: string): string | null {
    let best: NodeRecord | undefined;
    let bestScore = -Infinity;
    for (const node of this.#nodes.all()) {
      if (node.nodeId === exclude || !fits(resources, node.resources)) continue;
      const score = fits(resources, node.available) ? 1 + (node.available.CPU ?? 0) : 0;
      if (score > bestScore) {
        best = node;
        bestScore = score;
      }
    }
    return best?.nodeId ?? null;
  }
}
