/**
 * `pnpm bench --scale`: S1–S4 of /work/shared/BENCHMARKS.md (issue 10).
 *
 * - S1, S2 (embedded): each in a fresh process (bench/scale-embedded.ts), whose peak RSS is the
 *   driver's, the node's and the head's together.
 * - S3: for each node count N, a head (its own node has 0 CPUs), N simulated nodes of 1 CPU
 *   (bench/scale-cluster.ts, 10 per process) and a 0-CPU node the driver (this process) joins:
 *   every task needs a CPU, so that node spills each one to the head, which places it on a
 *   simulated node. The head's CPU time per task comes from /proc/<head pid>/stat over a burst of
 *   S3_TASKS, less what the head spends idle at that size (heartbeats, views; also reported),
 *   measured just before; the round trip is the median of sequential submit-then-get, shown
 *   beside the same round trip of a 0-CPU task, which runs on the driver's node (no head).
 * - S4: a head in its own process, one node of 2 CPUs that the driver joins; 1M tiny tasks in
 *   batches (their events reach the head's task table), then actors created, called and killed
 *   in batches; the head's RSS after the first 100,000 tasks, after all of them, and at the end.
 *
 * Every process started here is stopped by its pid in a `finally`.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { get, init, kill, shutdown, type ObjectRef } from "@weft/core";
import { Counter } from "./actors.ts";
import { Child } from "./child-process.ts";
import { S3_ROUND_TRIPS, S3_TASKS, SCALE_RESULT_PREFIX, WARMUP_TASKS, type RunContext, type ScaleSizes } from "./config.ts";
import { cpuSeconds, rssMb } from "./proc-stats.ts";
import { startScaleCluster, type ScaleCluster } from "./scale-cluster.ts";
import { median, now, secondsSince } from "./stats.ts";
import { tiny } from "./tasks.ts";
import { attempt } from "./weft-workloads.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const REPO_ROOT = path.dirname(BENCH_DIR.replace(/\/$/, ""));
/** A scale workload may take minutes (S2, S4: a million tasks; S1 with today's actor hosting). */
const SCALE_TIMEOUT_MS = 30 * 60_000;
/** How long the head is watched idle before S3's burst, for its background CPU. */
const S3_IDLE_MS = 3_000;
/**
 * After the last result, before the head's CPU (S3) or memory (S4) is read: the nodes send
 * their task events with their heartbeats (every 200 ms), so the head's share of the last
 * tasks comes after the driver has them.
 */
const SETTLE_MS = 1_000;
/**
 * S4: tiny tasks submitted before each get. Not 100,000: a burst that large stalled the driver's
 * node here for longer than the keepalive (4.5 s, on a loaded machine), the driver cut the
 * connection, and the batch failed with ObjectLostError after it reconnected.
 */
const S4_TASK_BATCH = 10_000;
/** S4: the head's RSS after this many tasks is the reference the end is compared with. */
const S4_REFERENCE_TASKS = 100_000;
/**
 * S4: actors alive at once (created, called once, killed, then the next batch). Actors that hold
 * no CPU share a node's few actor workers, so a batch starts no threads. (When each actor had a
 * thread of its own, 50 starting at once starved the node's main thread here past the driver's
 * keepalive, 4.5 s, and the batch was 10.)
 */
const S4_ACTOR_BATCH = 500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs bench/scale-embedded.ts WORKLOAD COUNT in a child and records its seconds and peak RSS. */
async function embedded(ctx: RunContext, id: "S1" | "S2", count: number): Promise<void> {
  const child = Child.spawn(id, process.execPath, ["--import", "tsx", path.join(BENCH_DIR, "scale-embedded.ts"), id, String(count)], { cwd: REPO_ROOT });
  try {
    const result = JSON.parse(await child.line(SCALE_RESULT_PREFIX, SCALE_TIMEOUT_MS)) as { s: number; rss_mb: number };
    ctx.log.add(`${id}.s`, result.s);
    ctx.log.add(`${id}.rss_mb`, result.rss_mb);
  } finally {
    await child.stop();
  }
}

/** Starts a simulated cluster in a fresh session directory, runs `body` as a driver of `driverUrl(cluster)`, then stops it all. */
async function withCluster(
  options: { nodes: number; cpusPerNode?: number; driverNode?: boolean },
  driverUrl: (cluster: ScaleCluster) => string,
  body: (cluster: ScaleCluster) => Promise<void>,
): Promise<void> {
  const token = randomBytes(24).toString("hex");
  const sessionRoot = await mkdtemp(path.join(os.tmpdir(), "weft-scale-"));
  let cluster: ScaleCluster | undefined;
  try {
    cluster = await startScaleCluster({ ...options, token, sessionRoot });
    await init({ address: driverUrl(cluster), token, workingDir: REPO_ROOT });
    try {
      await get(Array.from({ length: WARMUP_TASKS }, (_, i) => tiny.remote(i)));
      await body(cluster);
    } finally {
      await shutdown();
    }
  } finally {
    await cluster?.stop();
    await rm(sessionRoot, { recursive: true, force: true });
  }
}

/** Microseconds of S3_ROUND_TRIPS sequential submit-then-get of what `submit` makes. */
async function roundTrips(submit: () => ObjectRef<number>): Promise<number[]> {
  const us: number[] = [];
  for (let i = 0; i < S3_ROUND_TRIPS; i++) {
    const t = now();
    await get(submit());
    us.push((now() - t) * 1000);
  }
  return us;
}

/**
 * S3 at one node count: head CPU per spilled task, its idle CPU, and the spillback round trip;
 * `perTask` gets the first of them, for the ratio between node counts.
 */
async function s3(ctx: RunContext, nodes: number, perTask: Map<number, number>): Promise<void> {
  await withCluster({ nodes, driverNode: true }, (c) => c.driverUrl as string, async (cluster) => {
    const headPid = cluster.head.pid as number;
    // Every node loads the task module, and the head and nodes compile their paths, before any
    // clock starts: one unmeasured burst of the measured size (the first costs the head ~1.6×).
    await get(Array.from({ length: Math.max(S3_TASKS, 20 * nodes) }, (_, i) => tiny.remote(i)));
    await sleep(SETTLE_MS);
    const idle0 = cpuSeconds(headPid);
    await sleep(S3_IDLE_MS);
    const idlePerS = (cpuSeconds(headPid) - idle0) / (S3_IDLE_MS / 1000);

    const cpu0 = cpuSeconds(headPid);
    const t0 = now();
    const values = await get(Array.from({ length: S3_TASKS }, (_, i) => tiny.remote(i)));
    await sleep(SETTLE_MS);
    const wallS = secondsSince(t0);
    const total = cpuSeconds(headPid) - cpu0;
    const busy = total - idlePerS * wallS;
    if (values[S3_TASKS - 1] !== S3_TASKS - 1) throw new Error(`S3: the last task returned ${String(values[S3_TASKS - 1])}`);

    const rtts = await roundTrips(() => tiny.remote(0));
    // The same round trip without the head: a task of 0 CPUs runs on the driver's node itself.
    const local = await roundTrips(() => tiny.options({ numCpus: 0 }).remote(0));
    const us = (Math.max(0, busy) / S3_TASKS) * 1e6;
    perTask.set(nodes, us);
    ctx.log.add(`S3.head_us_per_task_${nodes}`, us);
    ctx.log.add(`S3.head_idle_cpu_pct_${nodes}`, idlePerS * 100);
    // What the subtraction starts from: with many nodes the idle share is as large as the tasks'
    // and varies between the two windows, so the difference is noisy there.
    ctx.log.add(`S3.head_raw_us_per_task_${nodes}`, (total / S3_TASKS) * 1e6);
    ctx.log.add(`S3.burst_s_${nodes}`, wallS);
    ctx.log.add(`S3.spill_rtt_us_${nodes}`, median(rtts));
    ctx.log.add(`S3.local_rtt_us_${nodes}`, median(local));
  });
}

/** S4: the head's RSS after a million tasks and many actor creations and deaths. */
async function s4(ctx: RunContext, sizes: ScaleSizes): Promise<void> {
  await withCluster({ nodes: 1, cpusPerNode: 2 }, (c) => c.nodeUrls[0] as string, async (cluster) => {
    const headPid = cluster.head.pid as number;
    let first = 0;
    for (let done = 0; done < sizes.tasks; done += S4_TASK_BATCH) {
      const n = Math.min(S4_TASK_BATCH, sizes.tasks - done);
      await get(Array.from({ length: n }, (_, i) => tiny.remote(done + i))).catch((error: Error) => {
        throw new Error(`tasks ${done}–${done + n - 1}: ${error.name}: ${error.message}`, { cause: error });
      });
      if (first === 0 && (done + n >= S4_REFERENCE_TASKS || done + n === sizes.tasks)) {
        await sleep(SETTLE_MS);
        first = rssMb(headPid);
        ctx.log.add("S4.head_rss_mb_100k", first);
      }
    }
    await sleep(SETTLE_MS);
    ctx.log.add("S4.head_rss_mb_after_tasks", rssMb(headPid));
    for (let done = 0; done < sizes.actors; done += S4_ACTOR_BATCH) {
      const handles = Array.from({ length: Math.min(S4_ACTOR_BATCH, sizes.actors - done) }, (_, i) => Counter.remote(done + i));
      await get(handles.map((h) => h.inc.remote(1))).catch((error: Error) => {
        throw new Error(`actors ${done}–${done + handles.length - 1}: ${error.name}: ${error.message}`, { cause: error });
      });
      await Promise.all(handles.map((h) => kill(h)));
    }
    await sleep(SETTLE_MS);
    const final = rssMb(headPid);
    ctx.log.add("S4.head_rss_mb", final);
    ctx.log.add("S4.growth_vs_100k", final / first);
  });
}

/** One repetition of the selected scale workloads. */
export async function runScale(ctx: RunContext): Promise<void> {
  const sizes = ctx.scale;
  if (!sizes) throw new Error("runScale: no scale sizes in the run context");
  if (ctx.workloads.has("S1")) await attempt(ctx, "S1", () => embedded(ctx, "S1", sizes.actors), SCALE_TIMEOUT_MS);
  if (ctx.workloads.has("S2")) await attempt(ctx, "S2", () => embedded(ctx, "S2", sizes.tasks), SCALE_TIMEOUT_MS);
  if (ctx.workloads.has("S3")) {
    const perTask = new Map<number, number>();
    for (const nodes of sizes.nodeCounts) await attempt(ctx, "S3", () => s3(ctx, nodes, perTask), SCALE_TIMEOUT_MS);
    const first = sizes.nodeCounts[0] as number;
    const last = sizes.nodeCounts[sizes.nodeCounts.length - 1] as number;
    const a = perTask.get(first);
    const b = perTask.get(last);
    if (a !== undefined && b !== undefined && first !== last && a > 0) ctx.log.add(`S3.ratio_${last}_vs_${first}`, b / a);
  }
  if (ctx.workloads.has("S4")) await attempt(ctx, "S4", () => s4(ctx, sizes), SCALE_TIMEOUT_MS);
}
