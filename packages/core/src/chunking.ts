/**
 * How many items of a map go into one task (joblib's `batch_size='auto'`): one at first, then as
 * many as take about TARGET_CHUNK_MS of work, measured as the map runs (the chunk tasks report how
 * long their calls took). Never so many that the items left would not keep every slot of the
 * window busy. A pure function of what has been measured.
 */

/** Work per chunk the policy aims at. */
export const TARGET_CHUNK_MS = 100;
/** Most items in one chunk. */
export const MAX_CHUNK_ITEMS = 10_000;

/** What the policy knows so far. */
export interface ChunkState {
  /** Mean time one item took, by the chunks finished so far; undefined before the first. */
  itemMs: number | undefined;
  /** Items not yet submitted, when the input's length is known. */
  remaining?: number | undefined;
  /** Chunks the map keeps in flight. */
  window: number;
}

/** The size of the next chunk under `'auto'`. */
export function nextChunkSize(state: ChunkState): number {
  if (state.itemMs === undefined) return 1;
  // Items too fast to measure (a few µs) are as fast as can be: the largest chunk.
  const size = state.itemMs <= 0 ? MAX_CHUNK_ITEMS : Math.round(TARGET_CHUNK_MS / state.itemMs);
  // Keep the window full with what is left: a short list is spread over every slot.
  const spread = state.remaining === undefined ? MAX_CHUNK_ITEMS : Math.ceil(state.remaining / Math.max(1, state.window));
  return Math.max(1, Math.min(size, MAX_CHUNK_ITEMS, spread));
}

/** The mean time per item after a chunk of `items` took `ms` (an average over every item seen). */
export function updateItemMs(previous: { itemMs: number | undefined; items: number }, items: number, ms: number): { itemMs: number; items: number } {
  const total = previous.items + items;
  const before = previous.itemMs === undefined ? 0 : previous.itemMs * previous.items;
  return { itemMs: (before + ms) / total, items: total };
}
