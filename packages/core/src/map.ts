/**
 * Parallel map over a remote function (joblib's Parallel, multiprocessing.Pool.map/imap,
 * concurrent.futures): `f.map(items)` (values in input order), `f.imap` (an async iterable, in
 * order, each value as soon as it and those before it are ready), `f.imapUnordered` (in
 * completion order), `f.starmap(argLists)` (several arguments per call).
 *
 * Items are taken from the input lazily (an array, or any iterable or async iterable) and sent in
 * chunks: one task runs the function on every item of its chunk (TaskSpec.batch). With
 * `chunkSize: 'auto'` a chunk holds about 100 ms of work, measured as the map runs (see
 * chunking.ts). At most `maxInFlight` chunks are submitted and not yet consumed, so a map over a
 * generator of 10 million items needs memory for its window, not for all of them. An item that
 * throws rejects the map (or throws from the loop) with its TaskError, whose message names the
 * item's index; what is left of the map is cancelled, as it is when a loop over `imap` ends early.
 */
import { MAX_CHUNK_ITEMS, nextChunkSize, updateItemMs } from './chunking.ts';
import type { ObjectRef } from './object-ref.ts';
import type { RemoteCalls } from './remote.ts';
import { progressReporter, type MapProgress } from './progress.ts';
import { currentRuntime } from './runtime/runtime-slot.ts';

export type { MapProgress } from './progress.ts';

/** Options of `map`, `imap`, `imapUnordered` and `starmap`. */
export interface MapOptions {
  /** Items per task: a number, or `'auto'` (about 100 ms of work per chunk, measured as it goes). @default 'auto' */
  chunkSize?: number | 'auto';
  /** Chunks submitted and not yet consumed, at most. @default twice the cluster's CPUs */
  maxInFlight?: number;
  /**
   * `true`: a bar on stderr in a terminal (done/total, rate, ETA), else a line every few seconds;
   * a function: called with the progress after each chunk. @default false
   */
  progress?: boolean | ((progress: MapProgress) => void);
}

/** @internal Where the calls of a remote function (and of its `options(...)`) keep their chunk submitter, for memory.ts. */
export const CHUNKS: unique symbol = Symbol.for('weft.map.chunks');

/**
 * @internal Per-item cache of a map over a cached function (memory.ts): an item found is not
 * submitted, and one that ran is saved.
 */
export interface ItemCache {
  lookup(args: unknown[]): Promise<{ hit: true; value: unknown } | { hit: false }>;
  save(args: unknown[], value: unknown): void;
}

/** The map family over `chunks` (and a per-item cache). */
export function mapCalls<F extends (...args: never[]) => unknown>(chunks: ChunkSubmitter, cache?: ItemCache): Pick<RemoteCalls<F>, 'map' | 'imap' | 'imapUnordered' | 'starmap'> {
  type Values = Array<Awaited<ReturnType<F>>>;
  type Stream = AsyncGenerator<Awaited<ReturnType<F>>, void, undefined>;
  return {
    map: (items, options = {}) => collect(runMap(chunks, items, false, options, true, cache)) as Promise<Values>,
    imap: (items, options = {}) => runMap(chunks, items, false, options, true, cache) as Stream,
    imapUnordered: (items, options = {}) => runMap(chunks, items, false, options, false, cache) as Stream,
    starmap: (argLists, options = {}) => collect(runMap(chunks, argLists, true, options, true, cache)) as Promise<Values>,
  };
}

/** What a map needs of a remote function: submit one chunk of items. */
export interface ChunkSubmitter {
  /** The function's name, for the progress bar. */
  readonly name: string;
  /** Run the function on each item (an argument list) as one task; its result is `{ values, ms }`. */
  submitChunk(items: unknown[][], offset: number): ObjectRef<ChunkResult>;
}

/** What a chunk task returns: the items' results in order, and how long their calls took. */
export interface ChunkResult {
  values: unknown[];
  ms: number;
}

interface Chunk {
  offset: number;
  count: number;
  /** Its task; absent for an item found in the cache. */
  ref: ObjectRef<ChunkResult> | undefined;
  outcome: Promise<{ chunk: Chunk; result?: ChunkResult; error?: unknown }>;
  settled: boolean;
  /** Its items' arguments, kept to save their values in the cache; absent without one. */
  argLists?: unknown[][];
}

/** Check map options; throws TypeError/RangeError naming the option. */
function checkOptions(options: MapOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('map options must be an object');
  const { chunkSize, maxInFlight, progress } = options;
  if (chunkSize !== undefined && chunkSize !== 'auto' && !(Number.isInteger(chunkSize) && chunkSize >= 1)) {
    throw new RangeError(`chunkSize must be 'auto' or an integer >= 1, got ${String(chunkSize)}`);
  }
  if (maxInFlight !== undefined && !(Number.isInteger(maxInFlight) && maxInFlight >= 1)) {
    throw new RangeError(`maxInFlight must be an integer >= 1, got ${String(maxInFlight)}`);
  }
  if (progress !== undefined && typeof progress !== 'boolean' && typeof progress !== 'function') {
    throw new TypeError('progress must be a boolean or a function');
  }
}

/** An iterator over the items, sync or async, and their number when it is known. */
function itemsOf(items: Iterable<unknown> | AsyncIterable<unknown>): { next(): Promise<IteratorResult<unknown>> | IteratorResult<unknown>; close(): void; total: number | undefined } {
  if (items === null || typeof items !== 'object' && typeof items !== 'function') throw new TypeError('map takes an array or an (async) iterable of items');
  const total = Array.isArray(items) ? items.length : undefined;
  const asyncIterator = (items as AsyncIterable<unknown>)[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function') {
    const iterator = asyncIterator.call(items);
    return { next: () => iterator.next(), close: () => void iterator.return?.(), total };
  }
  const syncIterator = (items as Iterable<unknown>)[Symbol.iterator];
  if (typeof syncIterator !== 'function') throw new TypeError('map takes an array or an (async) iterable of items');
  const iterator = syncIterator.call(items);
  return { next: () => iterator.next(), close: () => void iterator.return?.(), total };
}

/** The default window: twice the cluster's CPUs (the node's view), at least 2. */
async function defaultWindow(): Promise<number> {
  const runtime = currentRuntime();
  const cpus = runtime ? (await runtime.clusterResources()).CPU ?? 1 : 1;
  return Math.max(2, Math.ceil(2 * cpus));
}

/**
 * The engine of every map: values in input order (`ordered`) or in completion order. `star`: each
 * item is an argument list; otherwise it is the only argument.
 */
export async function* runMap(target: ChunkSubmitter, items: Iterable<unknown> | AsyncIterable<unknown>, star: boolean,
  options: MapOptions, ordered: boolean, cache?: ItemCache): AsyncGenerator<unknown, void, undefined> {
  checkOptions(options);
  const source = itemsOf(items);
  const window = options.maxInFlight ?? await defaultWindow();
  const fixed = typeof options.chunkSize === 'number' ? options.chunkSize : undefined;
  const progress = progressReporter(options.progress, target.name, source.total);
  let measured: { itemMs: number | undefined; items: number } = { itemMs: undefined, items: 0 };
  const chunks: Chunk[] = [];
  let taken = 0;
  let exhausted = false;
  let finished = false;
  try {
    for (;;) {
      while (!exhausted && chunks.length < window) {
        const size = fixed ?? nextChunkSize({ itemMs: measured.itemMs, remaining: source.total === undefined ? undefined : source.total - taken, window });
        const argLists: unknown[][] = [];
        while (argLists.length < Math.min(size, MAX_CHUNK_ITEMS)) {
          // A sync iterator's items are taken without a turn of the event loop each.
          const next = source.next();
          const item = next instanceof Promise ? await next : next;
          if (item.done === true) {
            exhausted = true;
            break;
          }
          const args = star ? argumentList(item.value, taken + argLists.length) : [item.value];
          const found = cache ? await cache.lookup(args) : undefined;
          if (found?.hit !== true) {
            argLists.push(args);
            continue;
          }
          // Found in the cache: the items before it go as a chunk, and it as a chunk of its own, done.
          if (argLists.length > 0) chunks.push(submit(target, argLists.splice(0), taken, cache));
          taken = chunks.at(-1) ? (chunks.at(-1) as Chunk).offset + (chunks.at(-1) as Chunk).count : taken;
          chunks.push(cachedChunk(taken, found.value));
          taken += 1;
          if (chunks.length >= window) break;
        }
        if (argLists.length === 0) continue;
        chunks.push(submit(target, argLists, taken, cache));
        taken += argLists.length;
      }
      if (chunks.length === 0) break;
      const { chunk, result, error } = ordered ? await (chunks[0] as Chunk).outcome : await Promise.race(chunks.map((c) => c.outcome));
      chunks.splice(chunks.indexOf(chunk), 1);
      if (error !== undefined) {
        progress.update({ done: 0, failed: chunk.count });
        throw error;
      }
      const done = result as ChunkResult;
      if (chunk.ref !== undefined) measured = updateItemMs(measured, chunk.count, done.ms);
      if (cache && chunk.argLists) done.values.forEach((value, i) => cache.save((chunk.argLists as unknown[][])[i] as unknown[], value));
      progress.update({ done: chunk.count, failed: 0 });
      for (const value of done.values) yield value;
    }
    finished = true;
  } finally {
    progress.stop(finished);
    if (!exhausted) source.close();
    // Ended early (a failed item, a loop left with break): what is left is cancelled.
    const runtime = currentRuntime();
    for (const chunk of chunks) if (!chunk.settled && chunk.ref) void runtime?.cancel(chunk.ref.id).catch(() => {});
  }
}

/** An item whose value the cache had. */
function cachedChunk(offset: number, value: unknown): Chunk {
  const chunk: Chunk = { offset, count: 1, ref: undefined, settled: true, outcome: undefined as unknown as Chunk['outcome'] };
  chunk.outcome = Promise.resolve({ chunk, result: { values: [value], ms: 0 } });
  return chunk;
}

function submit(target: ChunkSubmitter, argLists: unknown[][], offset: number, cache?: ItemCache): Chunk {
  const ref = target.submitChunk(argLists, offset);
  const runtime = currentRuntime();
  const chunk: Chunk = { offset, count: argLists.length, ref, settled: false, outcome: undefined as unknown as Chunk['outcome'],
    ...(cache ? { argLists } : {}) };
  chunk.outcome = (runtime as NonNullable<typeof runtime>).get([ref.id]).then(
    ([result]) => { chunk.settled = true; return { chunk, result: result as ChunkResult }; },
    (error: unknown) => { chunk.settled = true; return { chunk, error }; },
  );
  return chunk;
}

/** A starmap item must be an argument list. */
function argumentList(item: unknown, index: number): unknown[] {
  if (!Array.isArray(item)) throw new TypeError(`starmap: item ${index} is not an array of arguments`);
  return item;
}

/** Every value of a map, in input order. */
export async function collect(stream: AsyncGenerator<unknown, void, undefined>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of stream) values.push(value);
  return values;
}
