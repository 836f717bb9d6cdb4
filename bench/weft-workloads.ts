/**
 * The weft half of `pnpm bench`: W1 to W7 and start-up on the embedded cluster,
 * through the public API only. Loaded lazily by run.ts so the baselines run without it.
 */
import { alloc, get, init, kill, put, shutdown, type ActorHandle } from "@weft/core";
import { Counter } from "./actors.ts";
import {
  W1_TASKS, W2_CALLS, W3A_CALLS, W3B_CALLS, W3N_CALLS, W3_WARMUP_CALLS, W4_BIG_BYTES, W4_SMALL_BYTES, W4_SMALL_OPS, W5_LEAVES, W6_CHILDREN,
  W6_PARENTS, W7_TASKS, W8_ITEMS, W10_ITEMS, WARMUP_BURSTS, WARMUP_SEQUENTIAL, WARMUP_TASKS, gbPerS, type RunContext, type WorkloadId,
} from "./config.ts";
import { now, quantile, secondsSince } from "./stats.ts";
import { add, leaf, parent, pi, spinItem, sum, tiny } from "./tasks.ts";
import { w11 } from "./cache-workload.ts";
import { QUIESCED, quiesce } from "./quiesce.ts";
import { w9 } from "./download-workload.ts";

/**
 * A workload that has not finished after this long is reported as failed, so that one hang in
 * a runtime under construction does not hang the whole bench. W7 at 1 CPU takes ~4 s.
 */
const WORKLOAD_TIMEOUT_MS = 120_000;

/** Checks a workload's result, so a fast but wrong runtime cannot post a good figure. */
export function check(what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

/**
 * Runs `body`, turning an error or a timeout (`timeoutMs`, WORKLOAD_TIMEOUT_MS by default; the
 * scale workloads take minutes) into a line in `ctx.failures`; true if it passed.
 */
export async function attempt(ctx: RunContext, id: WorkloadId | "shutdown" | "cluster" | "recovery", body: () => Promise<void>, timeoutMs = WORKLOAD_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([body(), timeout]);
    return true;
  } catch (error) {
    const e = error as Error;
    ctx.failures.push(`weft ${id}: ${e.name}: ${e.message}`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Brings every worker to the steady state: task module loaded, submit and reply paths compiled. */
export async function warmUp(): Promise<void> {
  for (let b = 0; b < WARMUP_BURSTS; b++) check("warm-up", (await get(Array.from({ length: WARMUP_TASKS }, (_, i) => tiny.remote(i)))).length, WARMUP_TASKS);
  for (let i = 0; i < WARMUP_SEQUENTIAL; i++) await get(tiny.remote(i));
}

/** Starts the embedded cluster and waits for a first task; returns seconds (the start-up figure). */
async function start(numCpus: number): Promise<number> {
  const t0 = now();
  await init({ numCpus });
  check("first task", await get(tiny.remote(7)), 7);
  return secondsSince(t0);
}

export async function w1(ctx: RunContext): Promise<void> {
  const t0 = now();
  const refs = Array.from({ length: W1_TASKS }, (_, i) => tiny.remote(i));
  const values = await get(refs);
  const s = secondsSince(t0);
  check("W1 last value", values[W1_TASKS - 1], W1_TASKS - 1);
  ctx.log.add("W1.tasks_per_s", W1_TASKS / s);
}

export async function w2(ctx: RunContext): Promise<void> {
  const us: number[] = [];
  for (let i = 0; i < W2_CALLS; i++) {
    const t0 = now();
    const v = await get(tiny.remote(i));
    us.push((now() - t0) * 1000);
    if (v !== i) check(`W2 call ${i}`, v, i);
  }
  ctx.log.add("W2.median_us", quantile(us, 0.5));
  ctx.log.add("W2.p99_us", quantile(us, 0.99));
}

/**
 * Brings a fresh Counter to the steady state before any clock starts: its worker has loaded
 * bench/actors.ts and run the constructor, and the call and reply paths are compiled (a burst
 * in flight, then sequential calls). Returns the counter's value afterwards.
 */
async function warmUpActor(counter: ActorHandle<Counter>): Promise<number> {
  const burst = await get(Array.from({ length: W3_WARMUP_CALLS }, () => counter.inc.remote(1)));
  check("W3 warm-up burst", burst[W3_WARMUP_CALLS - 1], W3_WARMUP_CALLS);
  for (let i = 0; i < WARMUP_SEQUENTIAL; i++) await get(counter.inc.remote(1));
  const n = await get(counter.value.remote());
  check("W3 warm-up value", n, W3_WARMUP_CALLS + WARMUP_SEQUENTIAL);
  return n;
}

/**
 * W3a and W3b on one Counter actor, made and warmed before the clocks, and killed at the end
 * so it does not sit beside the workloads that follow.
 */
export async function w3ab(ctx: RunContext): Promise<void> {
  const counter = Counter.remote(0);
  try {
    let n = await warmUpActor(counter);

    // W3a: 10,000 calls in flight on one actor, then one get of all of them.
    let t0 = now();
    const refs = Array.from({ length: W3A_CALLS }, () => counter.inc.remote(1));
    const values = await get(refs);
    const s = secondsSince(t0);
    // Calls from one handle run in submission order: the i-th call sees n + i + 1.
    check("W3a last value", values[W3A_CALLS - 1], n + W3A_CALLS);
    check("W3a first value", values[0], n + 1);
    n += W3A_CALLS;
    ctx.log.add("W3a.calls_per_s", W3A_CALLS / s);

    // W3b: sequential call-and-get on the same actor.
    const us: number[] = [];
    for (let i = 0; i < W3B_CALLS; i++) {
      t0 = now();
      const v = await get(counter.inc.remote(1));
      us.push((now() - t0) * 1000);
      if (v !== n + i + 1) check(`W3b call ${i}`, v, n + i + 1);
    }
    ctx.log.add("W3b.median_us", quantile(us, 0.5));
    ctx.log.add("W3b.p99_us", quantile(us, 0.99));
  } finally {
    await kill(counter);
  }
}

/**
 * W3n (1:n): fresh actors, one per CPU (W3a/W3b's counter is killed by then, so only they are
 * alive), 10,000 calls round-robin from this one driver, then one get of all; killed at the end.
 */
export async function w3n(ctx: RunContext, numCpus: number): Promise<void> {
  const spread = Array.from({ length: numCpus }, () => Counter.remote(0));
  try {
    const base = await Promise.all(spread.map((a) => warmUpActor(a)));
    const t0 = now();
    const nRefs = Array.from({ length: W3N_CALLS }, (_, i) => spread[i % numCpus]!.inc.remote(1));
    const nValues = await get(nRefs);
    const sn = secondsSince(t0);
    for (let k = 0; k < numCpus; k++) {
      const calls = Math.floor((W3N_CALLS - 1 - k) / numCpus) + 1; // calls that went to actor k
      const lastIndex = k + (calls - 1) * numCpus;
      check(`W3n actor ${k} last value`, nValues[lastIndex], (base[k] as number) + calls);
    }
    ctx.log.add("W3n.calls_per_s", W3N_CALLS / sn);
  } finally {
    await Promise.all(spread.map((a) => kill(a)));
  }
}

export async function w4(ctx: RunContext): Promise<void> {
  // Made before the clock (W4 measures moving the data, not filling it), in place: alloc gives
  // memory that put() stores without a copy.
  const big = alloc(Float64Array, W4_BIG_BYTES / 8).fill(1);
  const t0 = now();
  const total = await get(sum.remote(put(big)));
  const s = secondsSince(t0);
  check("W4 sum", total, big.length);
  ctx.log.add("W4.s", s);
  ctx.log.add("W4.gb_per_s", gbPerS(W4_BIG_BYTES, s));

  const small = new Float64Array(W4_SMALL_BYTES / 8).fill(2);
  for (let i = 0; i < 5; i++) await get(put(small));
  const t1 = now();
  for (let i = 0; i < W4_SMALL_OPS; i++) {
    const back = await get(put(small));
    if (back.length !== small.length) check("W4 1 MB length", back.length, small.length);
  }
  ctx.log.add("W4.mb1_us", ((now() - t1) * 1000) / W4_SMALL_OPS);
}

export async function w5(ctx: RunContext): Promise<void> {
  const t0 = now();
  // Built level by level from refs: no value reaches the driver until the root's get.
  let level = Array.from({ length: W5_LEAVES }, (_, i) => leaf.remote(i));
  while (level.length > 1) {
    const next = [];
    for (let k = 0; k + 1 < level.length; k += 2) next.push(add.remote(level[k]!, level[k + 1]!));
    level = next;
  }
  const total = await get(level[0]!);
  const s = secondsSince(t0);
  check("W5 sum", total, (W5_LEAVES * (W5_LEAVES - 1)) / 2);
  ctx.log.add("W5.s", s);
}

async function w6(ctx: RunContext): Promise<void> {
  const t0 = now();
  const sums = await get(Array.from({ length: W6_PARENTS }, (_, p) => parent.remote(p, W6_CHILDREN)));
  const s = secondsSince(t0);
  const n = W6_PARENTS * W6_CHILDREN;
  check("W6 sum", sums.reduce((a, b) => a + b, 0), (n * (n - 1)) / 2);
  ctx.log.add("W6.s", s);
}

/** Seconds for the W7 pi tasks on a fresh, warm cluster of `numCpus` workers. */
async function piSeconds(numCpus: number, samples: number): Promise<number> {
  await shutdown();
  await init({ numCpus });
  await warmUp();
  // Short pi tasks first so each worker has compiled the kernel before the clock starts.
  await get(Array.from({ length: 4 * numCpus }, (_, i) => pi.remote(100_000, i)));
  const t0 = now();
  await get(Array.from({ length: W7_TASKS }, (_, i) => pi.remote(samples, i)));
  return secondsSince(t0);
}

async function w7(ctx: RunContext): Promise<void> {
  const t1 = await piSeconds(1, ctx.piSamples);
  const t2 = await piSeconds(2, ctx.piSamples);
  ctx.log.add("W7.t1_s", t1);
  ctx.log.add("W7.t2_s", t2);
  ctx.log.add("W7.efficiency", t1 / (2 * t2));
}

/**
 * W8: a map over {@link W8_ITEMS} tiny items, chunks sized automatically (each map starts from
 * chunks of one item and measures), after a map of a fifth of them off the clock. The best of
 * three maps, as the chunked piscina baseline is the best of three loops (its per-item burst of
 * 100,000 runs warms its workers first); a single map after the warm-up still runs on code the
 * JIT is compiling (here 0.9M items/s for the first, 2-3M for the next ones).
 */
async function w8(ctx: RunContext): Promise<void> {
  const items = Array.from({ length: W8_ITEMS }, (_, i) => i);
  await tiny.map(items.slice(0, W8_ITEMS / 5));
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const t0 = now();
    const values = await tiny.map(items);
    const s = secondsSince(t0);
    check("W8 last value", values[W8_ITEMS - 1], W8_ITEMS - 1);
    best = Math.max(best, W8_ITEMS / s);
  }
  ctx.log.add("W8.items_per_s", best);
}

/** W10: imapUnordered over {@link W10_ITEMS} items of ~1 ms: time to the first value, and the rate. */
async function w10(ctx: RunContext): Promise<void> {
  const t0 = now();
  let first = 0;
  let seen = 0;
  for await (const _ of spinItem.imapUnordered(Array.from({ length: W10_ITEMS }, (_, i) => i))) {
    if (seen === 0) first = secondsSince(t0) * 1000;
    seen += 1;
  }
  const s = secondsSince(t0);
  check("W10 items", seen, W10_ITEMS);
  ctx.log.add("W10.first_ms", first);
  ctx.log.add("W10.items_per_s", W10_ITEMS / s);
}

/** CPUs of the cluster the steady workloads run on (W7 makes its own at 1 and 2). */
const NUM_CPUS = 2;

const STEADY_WORKLOADS = [
  ["W1", w1], ["W2", w2], ["W3", async (ctx: RunContext) => { await w3ab(ctx); await w3n(ctx, NUM_CPUS); }], ["W4", w4], ["W5", w5], ["W6", w6], ["W7", w7],
  // W10 before W9: its time to the first value is not to include the workers settling after
  // 1,000 downloads (run after W9 it was 12-23 ms, after W8 or alone 4-8 ms).
  ["W8", w8], ["W10", w10], ["W9", w9], ["W11", w11],
] as const;

/**
 * One repetition of every selected weft workload: start-up with 2 workers, warm-up, then the
 * workloads in order on that cluster (W7 restarts it at 1 and 2 CPUs), then shutdown.
 */
export async function runWeft(ctx: RunContext): Promise<void> {
  const started = await attempt(ctx, "startup", async () => {
    const s = await start(NUM_CPUS);
    if (ctx.workloads.has("startup")) ctx.log.add("startup.s", s);
    await warmUp();
  });
  try {
    if (!started) return;
    for (const [id, body] of STEADY_WORKLOADS) {
      if (!ctx.workloads.has(id)) continue;
      if (QUIESCED.has(id)) await quiesce();
      await attempt(ctx, id, () => body(ctx));
    }
  } finally {
    // Guarded too: a failing shutdown is a finding to report, not a reason to lose the figures.
    await attempt(ctx, "shutdown", () => shutdown());
  }
}
