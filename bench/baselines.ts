/**
 * The baselines measured in the same run as weft: piscina 5.3 with 2 threads (W1, W2, W5, W6,
 * W7, start-up; W1 and W2 are also W3's yardsticks) and the memory-copy floor for W4. Runs
 * without the weft runtime.
 */
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import {
  W1_TASKS, W2_CALLS, W4_BIG_BYTES, W8_ITEMS, W8_PISCINA_CHUNKS, W5_LEAVES, W6_CHILDREN, W6_PARENTS, W7_TASKS,
  WARMUP_BURSTS, WARMUP_SEQUENTIAL, WARMUP_TASKS, gbPerS, type RunContext, type WorkloadId,
} from "./config.ts";
import { now, quantile, secondsSince } from "./stats.ts";

const WORKER_FILE = fileURLToPath(new URL("./piscina-worker.mjs", import.meta.url));

/** 2,047 and 1,010: the task counts of W5 and W6, run flat on piscina as their yardstick. */
const W5_TASKS = 2 * W5_LEAVES - 1;
const W6_TASKS = W6_PARENTS * (1 + W6_CHILDREN);

/** Workloads whose piscina figures come from the shared 2-thread pool (W3: its targets are W1 and W2's). */
const POOL_WORKLOADS: readonly WorkloadId[] = ["startup", "W1", "W2", "W3", "W5", "W6"];

type Pool = Piscina<unknown, number>;

function makePool(threads: number): Pool {
  // min = max so that every thread exists before the clock starts and none is retired
  // between workloads; otherwise defaults, as a user would run piscina. execArgv: [] because
  // workers inherit the parent's, and under `tsx` that loads the TypeScript loader into every
  // thread (~0.2 s of start-up); the baseline is piscina running a plain .mjs worker.
  return new Piscina<unknown, number>({ filename: WORKER_FILE, minThreads: threads, maxThreads: threads, execArgv: [] });
}

/** Submits `n` tiny tasks at once and waits for all; returns seconds. */
async function burst(pool: Pool, n: number): Promise<number> {
  const t0 = now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < n; i++) pending.push(pool.run(i, { name: "tiny" }));
  const values = await Promise.all(pending);
  if (values[n - 1] !== n - 1) throw new Error(`piscina returned ${values[n - 1]} for task ${n - 1}`);
  return secondsSince(t0);
}

/** One sequential run+await per call; returns each round trip in microseconds. */
async function roundTrips(pool: Pool, n: number): Promise<number[]> {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await pool.run(i, { name: "tiny" });
    us.push((now() - t0) * 1000);
  }
  return us;
}

/** Start-up, W1, W2, W5 and W6 on one 2-thread pool. */
async function poolFigures(ctx: RunContext): Promise<void> {
  const { log, workloads } = ctx;
  const t0 = now();
  const pool = makePool(2);
  try {
    await pool.run(0, { name: "tiny" });
    if (workloads.has("startup")) log.add("piscina.startup.s", secondsSince(t0));
    for (let b = 0; b < WARMUP_BURSTS; b++) await burst(pool, WARMUP_TASKS);
    await roundTrips(pool, WARMUP_SEQUENTIAL);
    // W3's targets are ratios to piscina's W1 and W2 (an actor call should cost no more than a
    // pool task), so W3 alone measures them too.
    if (workloads.has("W1") || workloads.has("W3")) log.add("piscina.W1.tasks_per_s", W1_TASKS / (await burst(pool, W1_TASKS)));
    if (workloads.has("W2") || workloads.has("W3")) {
      const us = await roundTrips(pool, W2_CALLS);
      log.add("piscina.W2.median_us", quantile(us, 0.5));
      log.add("piscina.W2.p99_us", quantile(us, 0.99));
    }
    if (workloads.has("W5")) log.add("piscina.W5.s", await burst(pool, W5_TASKS));
    if (workloads.has("W6")) log.add("piscina.W6.s", await burst(pool, W6_TASKS));
  } finally {
    await pool.destroy();
  }
}

/** Seconds for {@link W7_TASKS} pi tasks on a warm pool of `threads` threads. */
async function piSeconds(threads: number, samples: number): Promise<number> {
  const pool = makePool(threads);
  try {
    // A short pi task per thread (and a few more) so each thread has loaded and compiled the
    // kernel before the clock starts.
    await Promise.all(Array.from({ length: 4 * threads }, (_, i) => pool.run({ samples: 100_000, seed: i }, { name: "pi" })));
    const t0 = now();
    await Promise.all(Array.from({ length: W7_TASKS }, (_, i) => pool.run({ samples, seed: i }, { name: "pi" })));
    return secondsSince(t0);
  } finally {
    await pool.destroy();
  }
}

/** The W4 floor: one 100 MB `Buffer.copy` between buffers whose pages are already mapped. */
function copyFloor(): number {
  const src = Buffer.alloc(W4_BIG_BYTES, 1);
  const dst = Buffer.alloc(W4_BIG_BYTES);
  src.copy(dst); // first copy pays page faults in dst; the floor is the warm copy
  const t0 = now();
  src.copy(dst);
  return gbPerS(W4_BIG_BYTES, secondsSince(t0));
}

/**
 * W8's yardsticks on a 2-thread pool: one `run` per item, and the best of a few hand-chunked
 * loops (a chunk of items per `run`, as a user batching piscina by hand would), items/s.
 */
async function mapFigures(ctx: RunContext): Promise<void> {
  const pool = makePool(2);
  try {
    await pool.run(0, { name: "tiny" });
    const perItem = await burst(pool, W8_ITEMS);
    ctx.log.add("piscina.W8.items_per_s", W8_ITEMS / perItem);
    let best = 0;
    for (const size of W8_PISCINA_CHUNKS) {
      const t0 = now();
      const chunks: Promise<unknown>[] = [];
      for (let at = 0; at < W8_ITEMS; at += size) {
        chunks.push(pool.run(Array.from({ length: Math.min(size, W8_ITEMS - at) }, (_, i) => at + i), { name: "tinyChunk" }));
      }
      const out = (await Promise.all(chunks)) as number[][];
      if (out.at(-1)?.at(-1) !== W8_ITEMS - 1) throw new Error("piscina chunked map returned a wrong last value");
      best = Math.max(best, W8_ITEMS / secondsSince(t0));
    }
    ctx.log.add("piscina.W8_chunked.items_per_s", best);
  } finally {
    await pool.destroy();
  }
}

/** Measures one repetition of every selected baseline and records it in `ctx.log`. */
export async function runBaselines(ctx: RunContext): Promise<void> {
  const { log, workloads } = ctx;
  if (workloads.has("W4")) log.add("floor.copy_gb_per_s", copyFloor());
  if (POOL_WORKLOADS.some((w) => workloads.has(w))) await poolFigures(ctx);
  if (workloads.has("W8")) await mapFigures(ctx);
  if (workloads.has("W7")) {
    const t1 = await piSeconds(1, ctx.piSamples);
    const t2 = await piSeconds(2, ctx.piSamples);
    log.add("piscina.W7.efficiency", t1 / (2 * t2));
  }
}
