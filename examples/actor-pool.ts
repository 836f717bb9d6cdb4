/**
 * An ActorPool: spread items over a few stateful worker actors, keeping each one busy.
 *
 * Each `Scorer` actor loads a "model" once, in its constructor (a table of word weights, built
 * with a deliberately slow hash so loading costs something), keeps a cache of the word scores it
 * has worked out, and counts the items it processed. Loading the model once per actor, not once
 * per item, is the reason to use actors here rather than tasks.
 *
 * The driver scores synthetic reviews (of very different lengths) with
 * `new ActorPool(actors)`:
 *   - `pool.map(...)` yields results in the order of the items, whichever actor finished first;
 *   - `pool.mapUnordered(...)` yields each result as soon as it is ready (short reviews overtake
 *     long ones).
 * The pool gives each actor one item at a time and the next one as soon as it is free, so a
 * fast actor does more items. At the end each actor reports how many items it did and how many
 * word lookups its cache saved.
 *
 * Shows: `ActorPool` with `map` and `mapUnordered`, actors with state kept between calls,
 * constructor arguments, reading per-actor state with one `get` over several handles.
 *
 * Run:   pnpm tsx examples/actor-pool.ts
 *        (a few seconds on 2 cores)
 *
 * Layout rule for weft programs: workers import this very file to find `Scorer`, and stop
 * evaluating it at `init()`. So the actor class is defined above `init()` and decorated with
 * `@remote()` (which lets workers find a class that lives in a driver script), and the driver
 * code is below it.
 */
import os from "node:os";
import { init, shutdown, remote, get, Actor, ActorPool, getRuntimeContext } from "@weft/core";

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

/** Buckets of the model's weight table. */
const MODEL_SIZE = 1 << 14;
/** Rounds of the slow hash: what makes looking up a new word cost something. */
const HASH_ROUNDS = 2_000;
/** Weights read per word by the "inference" step. */
const CONTEXT = 256;
/** Σ 0.99^r over the window, so that a word's contribution is a weighted mean of weights. */
const CONTEXT_WEIGHT = (1 - 0.99 ** CONTEXT) / (1 - 0.99);

/** A deliberately slow string hash (FNV-1a, re-mixed HASH_ROUNDS times). */
function slowHash(word: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
  for (let r = 0; r < HASH_ROUNDS; r++) h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ r;
  return h >>> 0;
}

/** The score of one item, with who scored it. */
export interface Scored {
  index: number;
  score: number;
  label: "positive" | "negative";
  scorer: string;
}

/** What one actor did. */
export interface ScorerStats {
  name: string;
  items: number;
  words: number;
  cacheHits: number;
  /** the worker that hosts the actor */
  workerId: string;
}

/** A worker with a model and a cache; one instance per actor, alive between calls. */
@remote()
export class Scorer extends Actor {
  readonly name: string;
  readonly model = new Float64Array(MODEL_SIZE);
  readonly cache = new Map<string, number>();
  items = 0;
  words = 0;
  cacheHits = 0;

  constructor(name: string, seed: number) {
    super();
    this.name = name;
    // "Load the model": the same seed gives every actor the same weights, so a review scores
    // the same whichever actor takes it.
    let state = seed | 0;
    for (let k = 0; k < MODEL_SIZE; k++) {
      state = (state + 0x6d2b79f5) | 0; // mulberry32
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      this.model[k] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1; // uniform in [-1, 1)
    }
  }

  /**
   * Scores one review: each word's bucket in the model is found through the cache (the slow
   * hash runs once per new word), then "inference" reads a window of CONTEXT weights from that
   * bucket on; the score is the mean over the words. Work grows with the review's length.
   */
  score(index: number, review: string): Scored {
    let total = 0;
    const words = review.split(" ");
    for (const word of words) {
      let bucket = this.cache.get(word);
      if (bucket === undefined) {
        bucket = slowHash(word) % MODEL_SIZE;
        this.cache.set(word, bucket);
      } else {
        this.cacheHits += 1;
      }
      let contribution = 0;
      let decay = 1;
      for (let r = 0; r < CONTEXT; r++, decay *= 0.99) contribution += this.model[(bucket + r) % MODEL_SIZE]! * decay;
      total += contribution / CONTEXT_WEIGHT;
    }
    this.items += 1;
    this.words += words.length;
    const score = total / words.length;
    return { index, score, label: score >= 0 ? "positive" : "negative", scorer: this.name };
  }

  /** What this actor did so far, and in which worker thread it lives. */
  stats(): ScorerStats {
    return { name: this.name, items: this.items, words: this.words, cacheHits: this.cacheHits, workerId: getRuntimeContext().workerId };
  }
}

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

/** Synthetic reviews from a vocabulary of made-up words, lengths from 1 to 3,000 words. */
function makeReviews(count: number): string[] {
  let state = 7;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const vocabulary = Array.from({ length: 8_000 }, (_, k) => `w${k.toString(36)}`);
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(random() ** 3 * 3_000); // mostly short, a few very long
    return Array.from({ length }, () => vocabulary[Math.floor(random() * vocabulary.length)]!).join(" ");
  });
}

await init();

try {
  const ACTORS = Math.max(3, os.availableParallelism());
  const ITEMS = 60;
  const reviews = makeReviews(ITEMS);
  const words = (i: number) => reviews[i]!.split(" ").length;

  const actors = Array.from({ length: ACTORS }, (_, k) => Scorer.remote(`scorer-${k}`, 1234));
  const pool = new ActorPool(actors);
  console.log(`${ACTORS} Scorer actors on ${os.availableParallelism()} CPUs, ${ITEMS} reviews of 1 to ` +
    `${Math.max(...reviews.map((_, i) => words(i)))} words\n`);

  // map: results in the order of the items.
  let t0 = performance.now();
  const ordered: Scored[] = [];
  for await (const result of pool.map((actor, i: number) => actor.score.remote(i, reviews[i]!), reviews.keys())) {
    ordered.push(result);
  }
  const mapSeconds = (performance.now() - t0) / 1000;
  console.log(`pool.map: ${ordered.length} results in ${mapSeconds.toFixed(2)} s, in item order: ` +
    `${ordered.every((r, i) => r.index === i) ? "yes" : "NO"}`);
  for (const r of ordered.slice(0, 8)) {
    console.log(`  review ${String(r.index).padStart(2)}  ${String(words(r.index)).padStart(4)} words  ` +
      `${r.score.toFixed(4).padStart(7)}  ${r.label.padEnd(8)}  by ${r.scorer}`);
  }
  console.log("  …");

  // mapUnordered: the same work, results as they finish. Warm caches make this pass faster.
  t0 = performance.now();
  const unordered: Scored[] = [];
  for await (const result of pool.mapUnordered((actor, i: number) => actor.score.remote(i, reviews[i]!), reviews.keys())) {
    unordered.push(result);
  }
  const unorderedSeconds = (performance.now() - t0) / 1000;
  const sameScores = unordered.every((r) => r.score === ordered[r.index]!.score);
  const inOrder = unordered.filter((r, k) => r.index === k).length;
  console.log(`\npool.mapUnordered: ${unordered.length} results in ${unorderedSeconds.toFixed(2)} s ` +
    `(caches warm), ${inOrder} of ${ITEMS} arrived at their own position; same scores as map: ${sameScores ? "yes" : "NO"}`);
  console.log(`  completion order: ${unordered.slice(0, 20).map((r) => r.index).join(" ")} …`);
  const longest = unordered.reduce((a, b) => (words(a.index) >= words(b.index) ? a : b));
  console.log(`  the longest review (#${longest.index}, ${words(longest.index)} words) came back ` +
    `${unordered.indexOf(longest) + 1}th of ${ITEMS}`);

  // Per-actor state: each actor counted its own items; together they did every item twice.
  const stats = await get(actors.map((actor) => actor.stats.remote()));
  console.log("\nper actor (state kept between calls):");
  for (const s of stats) {
    console.log(`  ${s.name}  items ${String(s.items).padStart(3)}  words ${String(s.words).padStart(6)}  ` +
      `cache hits ${String(s.cacheHits).padStart(6)} (${((100 * s.cacheHits) / Math.max(1, s.words)).toFixed(0)}%)  in worker ${s.workerId}`);
  }
  const total = stats.reduce((sum, s) => sum + s.items, 0);
  console.log(`  total items ${total} (expected ${2 * ITEMS}); every actor worked: ${stats.every((s) => s.items > 0) ? "yes" : "NO"}`);
  if (total !== 2 * ITEMS || !sameScores || !ordered.every((r, i) => r.index === i)) process.exitCode = 1;
} finally {
  await shutdown();
}
