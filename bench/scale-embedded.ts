/**
 * S1 and S2 of `pnpm bench --scale`, each in a fresh process of its own so that its peak RSS
 * (VmHWM: driver, node and head, worker threads included, as they share the process) is the
 * workload's alone:
 *
 *   node --import tsx bench/scale-embedded.ts S1 ACTORS   # create ACTORS Counters in a burst, call each once
 *   node --import tsx bench/scale-embedded.ts S2 TASKS    # submit TASKS tiny tasks, then get them all
 *
 * It prints one line on stdout, `WEFT_SCALE_RESULT {"s":…,"rss_mb":…}`; logs go to stderr. The
 * clock starts after the embedded cluster is up and warm.
 */
import { get, init, shutdown } from "@weft/core";
import { Counter } from "./actors.ts";
import { SCALE_RESULT_PREFIX, WARMUP_TASKS } from "./config.ts";
import { peakRssMb } from "./proc-stats.ts";
import { now, secondsSince } from "./stats.ts";
import { tiny } from "./tasks.ts";

/** S1: every actor is created before the first call, every call made before the first get. */
async function s1(actors: number): Promise<number> {
  const t0 = now();
  const handles = Array.from({ length: actors }, (_, i) => Counter.remote(i));
  const values = await get(handles.map((h) => h.inc.remote(1)));
  const s = secondsSince(t0);
  values.forEach((v, i) => {
    if (v !== i + 1) throw new Error(`S1: actor ${i} answered ${v}, expected ${i + 1}`);
  });
  return s;
}

/** S2: every task is submitted before the first get (one driver, one `.remote` each). */
async function s2(tasks: number): Promise<number> {
  const t0 = now();
  const refs = new Array<ReturnType<typeof tiny.remote>>(tasks);
  for (let i = 0; i < tasks; i++) refs[i] = tiny.remote(i);
  const values = await get(refs);
  const s = secondsSince(t0);
  for (let i = 0; i < tasks; i += 9_973) if (values[i] !== i) throw new Error(`S2: task ${i} returned ${String(values[i])}`);
  return s;
}

async function main(): Promise<void> {
  const [which, countText] = process.argv.slice(2);
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count: expected a positive integer, got ${String(countText)}`);
  if (which !== "S1" && which !== "S2") throw new Error(`unknown workload '${String(which)}' (expected S1 or S2)`);
  await init();
  try {
    await get(Array.from({ length: WARMUP_TASKS }, (_, i) => tiny.remote(i)));
    const s = which === "S1" ? await s1(count) : await s2(count);
    process.stdout.write(`${SCALE_RESULT_PREFIX} ${JSON.stringify({ s, rss_mb: peakRssMb(process.pid) })}\n`);
  } finally {
    await shutdown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`scale-embedded: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
