/**
 * When the local scheduler spills a queued task to the head, which places it on another node: a
 * pure function of this node's queue and the other nodes' last report.
 */

/** Queued tasks beyond this many per CPU may be spilled to other nodes with free resources. */
export const SPILL_QUEUE_PER_CPU = 1;
/** Tasks that usually run under this long spill only to free room elsewhere, never by share. */
export const SPILL_SHORT_MS = 5;

/** What the decision depends on. */
export interface SpillInputs {
  /** Whether the head placed the task here (it is never spilled again). */
  placed: boolean;
  /** Tasks queued on this node, the task included. */
  queued: number;
  /** This node's CPUs (at least 1). */
  localCpus: number;
  /** Other nodes: what they can take now, their CPUs and their queued tasks, as last reported. */
  view: { free: number; cpus: number; queued: number };
  /** Tasks this node spilled since that report. */
  spilledSinceView: number;
  /** Whether the task's function usually runs in under SPILL_SHORT_MS. */
  short: boolean;
}

/**
 * Spill when this node is saturated (more queued than SPILL_QUEUE_PER_CPU per CPU): as many
 * tasks as other nodes report room for, and, for tasks that take a while (a round trip to
 * another node is worth it), the other nodes' share of the queue by their CPUs, so that a burst
 * spreads at once instead of one report at a time. Tiny tasks stay: the network costs more than
 * running them. Tasks placed here by the head stay.
 */
export function shouldSpill({ placed, queued, localCpus, view, spilledSinceView, short }: SpillInputs): boolean {
  if (placed || queued <= SPILL_QUEUE_PER_CPU * localCpus) return false;
  if (view.cpus === 0) return false;
  // Room reported elsewhere, not yet used by what this node spilled since.
  if (spilledSinceView < view.free) return true;
  if (short) return false;
  // Balance the waiting work by CPUs: queued here against queued there (as reported, plus sent since).
  const remoteQueued = view.queued + spilledSinceView;
  const share = ((queued + remoteQueued) * view.cpus) / (view.cpus + localCpus);
  return remoteQueued + 1 <= share;
}
