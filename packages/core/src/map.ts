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
import { currentRuntime, type ObjectRef } from '@weft/protocol';
import type { RemoteCalls } from './remote.ts';
import { bothReporters, clusterProgress, progressReporter, type MapProgress } from './progress.ts';

export type { MapProgress } from './progress.ts';

/** Options of `map`, `imap`, `imapUnordered` and `starmap`. */
export interface MapOptions {
  /** Items per task: a number, or `'auto'` (about 100 ms of work per chunk, measured as it goes). @default 'auto' */
  chunkSize?: number | 'auto';
  /** Chunks submitted and not yet consumed, at most. @default twice the cluster's CPUs, times the function's maxConcurrency */
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
    imap: (items, options = {}) => each(runMap(chunks, items, false, options, true, cache)) as Stream,
    imapUnordered: (items, options = {}) => each(runMap(chunks, items, false, options, false, cache)) as Stream,
    starmap: (argLists, options = {}) => collect(runMap(chunks, argLists, true, options, true, cache)) as Promise<Values>,
  };
}

/** What a map needs of a remote function: submit one chunk of items. */
export interface ChunkSubmitter {
  /** The function's name, for the progress bar. */
  readonly name: string;
  /** Calls of it that may overlap in one worker (its maxConcurrency): the default window scales with it. */
  readonly maxConcurrency?: number;
  /**
   * Run the function on each item as one task; its result is `{ values, ms }`. `args` are the
   * items' arguments one after another: `sizes` says how many each item has, and without it each
   * item is one argument.
   */
  submitChunk(args: unknown[], sizes: number[] | undefined, offset: number): ObjectRef<ChunkResult>;
}

/** What a chunk task returns: the items' results in order, and how long their calls took. */
export interface ChunkResult {
  values: unknown[];
  ms: number;
}

interface Chunk {
  offset: number;
  count: number;
  /** Its task; absent for items found in the cache. */
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

/** Items taken from the input; `done` once it has no more. */
interface Taken {
  items: unknown[];
  done: boolean;
}

/** The input, taken a chunk at a time: an array by slices, a sync iterator without a turn of the event loop per item. */
interface ItemSource {
  take(count: number): Taken | Promise<Taken>;
  close(): void;
  /** The number of items, when it is known. */
  total: number | undefined;
}

function itemsOf(items: Iterable<unknown> | AsyncIterable<unknown>): ItemSource {
  if (items === null || typeof items !== 'object' && typeof items !== 'function') throw new TypeError('map takes an array or an (async) iterable of items');
  if (Array.isArray(items)) {
    let at = 0;
    return {
      take: (count) => {
        const taken = items.slice(at, at + count);
        at += taken.length;
        return { items: taken, done: at >= items.length };
      },
      close: () => {},
      total: items.length,
    };
  }
  const asyncIterator = (items as AsyncIterable<unknown>)[Symbol.asyncIterator];
  if (typeof asyncIterator === 'function') {
    const iterator = asyncIterator.call(items);
    return {
      take: async (count) => {
        const taken: unknown[] = [];
        while (taken.length < count) {
          const item = await iterator.next();
          if (item.done === true) return { items: taken, done: true };
          taken.push(item.value);
        }
        return { items: taken, done: false };
      },
      close: () => void iterator.return?.(),
      total: undefined,
    };
  }
  const syncIterator = (items as Iterable<unknown>)[Symbol.iterator];
  if (typeof syncIterator !== 'function') throw new TypeError('map takes an array or an (async) iterable of items');
  const iterator = syncIterator.call(items);
  return {
    take: (count) => {
      const taken: unknown[] = [];
      while (taken.length < count) {
        const item = iterator.next();
        if (item.done === true) return { items: taken, done: true };
        taken.push(item.value);
      }
      return { items: taken, done: false };
    },
    close: () => void iterator.return?.(),
    total: undefined,
  };
}

/**
 * The default window: twice what the cluster runs at once (the node's view of its CPUs, times
 * the calls that overlap in one worker), at least 2. A map of downloads with maxConcurrency 64
 * keeps 64 per CPU in flight, not 2.
 */
async function defaultWindow(maxConcurrency: number): Promise<number> {
  const runtime = currentRuntime();
  const cpus = runtime ? (await runtime.clusterResources()).CPU ?? 1 : 1;
  return Math.max(2, Math.ceil(2 * cpus * maxConcurrency));
}

/**
 * The engine of every map: the values of each chunk, as an array, in input order (`ordered`) or
 * in completion order. `star`: each item is an argument list; otherwise it is the only argument.
 */
export async function* runMap(target: ChunkSubmitter, items: Iterable<unknown> | AsyncIterable<unknown>, star: boolean,
  options: MapOptions, ordered: boolean, cache?: ItemCache): AsyncGenerator<unknown[], void, undefined> {
  checkOptions(options);
  const source = itemsOf(items);
  const window = options.maxInFlight ?? await defaultWindow(target.maxConcurrency ?? 1);
  const fixed = typeof options.chunkSize === 'number' ? options.chunkSize : undefined;
  const progress = bothReporters(progressReporter(options.progress, target.name, source.total), clusterProgress(target.name, source.total));
  let measured: { itemMs: number | undefined; items: number } = { itemMs: undefined, items: 0 };
  const chunks: Chunk[] = [];
  let taken = 0;
  let exhausted = false;
  let finished = false;
  try {
    for (;;) {
      while (!exhausted && chunks.length < window) {
        const size = fixed ?? nextChunkSize({ itemMs: measured.itemMs, remaining: source.total === undefined ? undefined : source.total - taken, window });
        const next = source.take(Math.min(size, MAX_CHUNK_ITEMS));
        const { items: batch, done } = next instanceof Promise ? await next : next;
        exhausted = done;
        if (batch.length === 0) continue;
        if (cache) chunks.push(...await lookUp(target, batch, star, taken, cache));
        else chunks.push(submit(target, batch, star, taken));
        taken += batch.length;
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
      yield done.values;
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

/**
 * The chunks of a batch of items of a map over a cached function: each run of items the cache
 * has is a chunk of their values, done; each run of the others a task.
 */
async function lookUp(target: ChunkSubmitter, batch: unknown[], star: boolean, offset: number, cache: ItemCache): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  let misses: unknown[] = [];
  let hits: unknown[] = [];
  let start = offset;
  const flush = (): void => {
    if (misses.length > 0) chunks.push(submit(target, misses, star, start, cache));
    else if (hits.length > 0) chunks.push(cachedChunk(start, hits));
    start += misses.length + hits.length;
    misses = [];
    hits = [];
  };
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i];
    const found = await cache.lookup(star ? argumentList(item, offset + i) : [item]);
    if (found.hit ? misses.length > 0 : hits.length > 0) flush();
    if (found.hit) hits.push(found.value);
    else misses.push(item);
  }
  flush();
  return chunks;
}

/** Items whose values the cache had. */
function cachedChunk(offset: number, values: unknown[]): Chunk {
  const chunk: Chunk = { offset, count: values.length, ref: undefined, settled: true, outcome: undefined as unknown as Chunk['outcome'] };
  chunk.outcome = Promise.resolve({ chunk, result: { values, ms: 0 } });
  return chunk;
}

/** Submit a chunk of items (argument lists if `star`) as one task. */
function submit(target: ChunkSubmitter, items: unknown[], star: boolean, offset: number, cache?: ItemCache): Chunk {
  let ref: ObjectRef<ChunkResult>;
  let argLists: unknown[][] | undefined;
  if (star) {
    argLists = items.map((item, i) => argumentList(item, offset + i));
    ref = target.submitChunk(argLists.flat(), argLists.map((args) => args.length), offset);
  } else {
    ref = target.submitChunk(items, undefined, offset);
    if (cache) argLists = items.map((item) => [item]);
  }
  const runtime = currentRuntime();
  const chunk: Chunk = { offset, count: items.length, ref, settled: false, outcome: undefined as unknown as Chunk['outcome'],
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
export async function collect(stream: AsyncGenerator<unknown[], void, undefined>): Promise<unknown[]> {
  let values: unknown[] | undefined;
  for await (const chunk of stream) {
    if (values === undefined) values = chunk;
    else for (let i = 0; i < chunk.length; i++) values.push(chunk[i]);
  }
  return values ?? [];
}

/** The values of a map one at a time (imap, imapUnordered). */
async function* each(stream: AsyncGenerator<unknown[], void, undefined>): AsyncGenerator<unknown, void, undefined> {
  for await (const chunk of stream) yield* chunk;
}
