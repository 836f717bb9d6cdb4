/**
 * Workload sizes and the shared context of one `pnpm bench` process. Sizes follow
 * /work/shared/BENCHMARKS.md; both the weft side and the baselines read them from here so that
 * the two sides cannot drift apart.
 */
import type { FigureLog } from "./stats.ts";

/**
 * Workloads this bench implements. `W3` is the actor workloads together: W3a and W3b on one
 * Counter, and W3n (1:n, one actor per CPU); `--only` also accepts W3a, W3b and W3n for it.
 * W6 and W7 are embedded only; W4x (an object made on one node, used on another) cluster only.
 */
export const WORKLOAD_IDS = ["startup", "W1", "W2", "W3", "W4", "W4x", "W5", "W6", "W7", "W8", "W9", "W10", "W11"] as const;

/** Workloads of `pnpm bench --scale` (only these run there, and only there). */
export const SCALE_WORKLOAD_IDS = ["S1", "S2", "S3", "S4"] as const;

/** Workloads of `pnpm bench --cluster` (the others are skipped there). */
export const CLUSTER_WORKLOADS: ReadonlySet<WorkloadId> = new Set<WorkloadId>(["startup", "W1", "W2", "W3", "W4", "W4x", "W5"]);

/** One of {@link WORKLOAD_IDS}; `startup` is start-up time, measured once per run. */
export type WorkloadId = (typeof WORKLOAD_IDS)[number] | (typeof SCALE_WORKLOAD_IDS)[number];

/** W1: tiny tasks submitted before the first get. */
export const W1_TASKS = 10_000;
/** W2: sequential submit-then-get round trips. */
export const W2_CALLS = 1_000;
/** W3a: `inc` calls on one Counter actor submitted before the first get. */
export const W3A_CALLS = 10_000;
/** W3b: sequential call-and-get round trips on that actor. */
export const W3B_CALLS = 1_000;
/** W3n: `inc` calls spread round-robin over one Counter per CPU, submitted before the first get. */
export const W3N_CALLS = 10_000;
/** W3: calls per actor in a burst before any clock starts (actor constructed, its module loaded, call path compiled); then WARMUP_SEQUENTIAL one at a time. */
export const W3_WARMUP_CALLS = 5_000;
/** W4: bytes of the large Float64Array (100 MB, 12.5 M doubles). */
export const W4_BIG_BYTES = 100_000_000;
/** W4: bytes of the small array in the put+get loop (1 MB). */
export const W4_SMALL_BYTES = 1_000_000;
/** W4: put+get repetitions of the small array. */
export const W4_SMALL_OPS = 100;
/** W5: leaves of the binary reduction tree (2 * leaves - 1 tasks in all). */
export const W5_LEAVES = 1_024;
/** W6: parent tasks, each of which submits {@link W6_CHILDREN} children and gets them. */
export const W6_PARENTS = 10;
/** W6: children per parent task. */
export const W6_CHILDREN = 100;
/** W7: Monte Carlo tasks per measurement. */
export const W7_TASKS = 8;
/** W7: target duration of one pi task on this machine, in seconds. */
export const W7_TASK_S = 0.45;
/** W8: tiny items of one `map` (auto chunks). */
export const W8_ITEMS = 100_000;
/** W8: items per chunk the hand-chunked piscina baseline tries (its best is reported). */
export const W8_PISCINA_CHUNKS = [1_000, 5_000, 25_000] as const;
/** W10: items of one `imapUnordered`, each about 1 ms of work (bench/tasks.ts spinItem). */
export const W10_ITEMS = 10_000;
/** W9: async tasks (downloads) per measurement. */
export const W9_TASKS = 1_000;
/** W9: how long the local server takes to answer each request, in ms. */
export const W9_LATENCY_MS = 100;
/**
 * W9: calls of the download function that may overlap in one worker: 1,000, the default of an
 * async actor in Ray (and in weft), so that the cap does not set the time: with 64 per worker,
 * 1,000 downloads need 8 rounds of 100 ms on 2 CPUs where Promise.all needs one.
 */
export const W9_MAX_CONCURRENCY = 1_000;
/** W11: bytes of the cached Float64Array result (10 MB). */
export const W11_BYTES = 10_000_000;
/** W11: cache hits measured (each a `.remote()` and a `get`). */
export const W11_HITS = 30;
/**
 * Tiny tasks run after start-up and before any clock starts, in WARMUP_BURSTS bursts and then one
 * at a time: they make every worker load the task module and let the JIT compile the submit and
 * reply paths, so the figures measure the steady state. Start-up has its own figure. Every runtime gets the
 * same (piscina's pool, Ray through bench/ray_peers.py). Until 2026-12-01 it was 500 and 50: the
 * JIT had not settled then (cluster W2 went from ~1.4 ms for the first thousand calls to ~0.42 ms
 * by the fourth), so the figures measured the warm-up.
 */
export const WARMUP_TASKS = 5_000;
/** Bursts of WARMUP_TASKS in the warm-up: one was not enough for W1's path to reach its steady rate (it rose over the first ~20,000 tasks). */
export const WARMUP_BURSTS = 4;
/**
 * The one-at-a-time part of the warm-up (tasks, and calls of each W3 actor). Cluster W2 took
 * ~3,000 sequential calls to settle (1.35 ms, 0.71, 0.47, then 0.42 ms per thousand).
 */
export const WARMUP_SEQUENTIAL = 3_000;

/** S1: actors created in a burst, each called once (`--scale-actors`). */
export const S1_ACTORS = 10_000;
/** S2: tiny tasks queued from one driver before the first get (`--scale-tasks`). */
export const S2_TASKS = 1_000_000;
/** S3: simulated nodes of each cluster measured (each with 1 CPU; 10 per process). */
export const S3_NODE_COUNTS = [2, 10, 50, 100] as const;
/** S3: tiny tasks spilled through the head in one burst, for its CPU per task. */
export const S3_TASKS = 5_000;
/** S3: sequential submit-then-get round trips through spillback. */
export const S3_ROUND_TRIPS = 200;

/** What bench/scale-embedded.ts prints before its result (JSON) on stdout. */
export const SCALE_RESULT_PREFIX = "WEFT_SCALE_RESULT";

/** Sizes of the scale workloads: the defaults above, or what the command line asks for. */
export interface ScaleSizes {
  /** S1 and S4: actors (S4 creates, calls and kills them in batches). @default S1_ACTORS */
  actors: number;
  /** S2 and S4: tiny tasks (S4 runs them in a cluster). @default S2_TASKS */
  tasks: number;
  /** S3: simulated node counts. */
  nodeCounts: readonly number[];
}

/** What each side (weft, baselines) needs to run one repetition of the selected workloads. */
export interface RunContext {
  /** Where per-run values are recorded, by figure name. */
  readonly log: FigureLog;
  /** The workloads selected with `--only` (all of them by default). */
  readonly workloads: ReadonlySet<WorkloadId>;
  /** Samples per W7 task, calibrated once per process so one task takes ~{@link W7_TASK_S}. */
  readonly piSamples: number;
  /** One line per workload that failed or timed out in this process; the exit code is 1 if any. */
  readonly failures: string[];
  /** Sizes of S1–S4 (`--scale` only). */
  readonly scale?: ScaleSizes;
}

/** Bytes per second to GB/s (10^9 bytes, as the figures in BENCHMARKS.md). */
export const gbPerS = (bytes: number, seconds: number): number => bytes / seconds / 1e9;
