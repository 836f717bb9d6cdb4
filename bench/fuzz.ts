/**
 * `pnpm bench --fuzz` (issue 9, point 5): FUZZ_FRAMES random and mutated frames (fast-check, see
 * packages/cli/test/support/fuzz-frames.ts) at a cluster started in this process: the head's port
 * as a node, the nodes' ports as a driver and as a peer, FUZZ_CONCURRENCY connections at a time,
 * while a well-behaved driver runs a task and a put+get round after round.
 *
 * Figures: `fuzz.frames_per_s` (frames sent and judged, connections opened and closed included),
 * `fuzz.closes` (connections the servers closed after a refused frame), `fuzz.crashes` (uncaught
 * exceptions and unhandled rejections: must be 0), `fuzz.violations` (a refused frame that left its
 * connection open, an accepted one that closed it, a canary closed: must be 0), `fuzz.good_rounds`
 * (rounds of the good driver, none failed), `fuzz.rss_growth_mb` and `fuzz.heap_growth_mb` (after vs
 * before, after a full GC).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import type { RunContext } from "./config.ts";
import { FUZZ_ENV } from "../packages/cli/test/support/fuzz-limits.ts";

/** Frames per run (WEFT_FUZZ_FRAMES: fewer, for a quick look). */
export const FUZZ_FRAMES = Number(process.env.WEFT_FUZZ_FRAMES) > 0 ? Number(process.env.WEFT_FUZZ_FRAMES) : 100_000;
/** Connections fuzzed at once. */
const FUZZ_CONCURRENCY = 16;
const FIXTURES = fileURLToPath(new URL("../packages/cli/test/fixtures", import.meta.url));

// The cluster's limits are read once, when @weft/core loads: it is loaded below, after this. Its
// warnings (a connection closed after a bad frame) are what the fuzz causes on purpose.
Object.assign(process.env, FUZZ_ENV);
process.env.WEFT_LOG_LEVEL ??= "error";

export async function runFuzz(ctx: RunContext): Promise<void> {
  const { startFuzzCluster, fuzzFrames, openCanaries } = await import("../packages/cli/test/support/fuzz-cluster.ts");
  const { get, init, put, shutdown } = await import("@weft/core");
  const { whereAmI, sumArray } = await import(path.join(FIXTURES, "cluster-tasks.ts")) as typeof import("../packages/cli/test/fixtures/cluster-tasks.ts");
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  let crashes = 0;
  const onCrash = (error: unknown): void => {
    crashes += 1;
    if (crashes <= 3) console.error("fuzz: uncaught", error);
  };
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  const cluster = await startFuzzCluster();
  try {
    await init({ address: cluster.node.address, token: cluster.token, workingDir: FIXTURES });
    const good = { resources: { good: 1 } };
    await fuzzFrames(cluster, { frames: 500, seed: 1, concurrency: FUZZ_CONCURRENCY });
    gc();
    const before = process.memoryUsage();
    const canaries = await openCanaries(cluster);
    let rounds = 0;
    const errors: string[] = [];
    let fuzzing = true;
    const driver = (async () => {
      while (fuzzing) {
        try {
          const [where, sum] = await get([whereAmI.options(good).remote(), sumArray.options(good).remote(put(new Float64Array(1000).fill(2)))]);
          if (where !== cluster.node.node.nodeId || sum.total !== 2000) throw new Error(`wrong answer: ${String(where)}, ${JSON.stringify(sum)}`);
          rounds += 1;
        } catch (error) {
          errors.push(error instanceof Error ? error.message : String(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = performance.now();
    const seed = Date.now() % 1_000_000;
    const stats = await fuzzFrames(cluster, { frames: FUZZ_FRAMES, seed, concurrency: FUZZ_CONCURRENCY });
    const seconds = (performance.now() - started) / 1000;
    fuzzing = false;
    await driver;
    const canaryProblems = await canaries();
    gc();
    const after = process.memoryUsage();
    ctx.log.add("fuzz.frames_per_s", stats.frames / seconds);
    ctx.log.add("fuzz.frames", stats.frames);
    ctx.log.add("fuzz.sessions", stats.sessions);
    ctx.log.add("fuzz.closes", stats.closes);
    ctx.log.add("fuzz.crashes", crashes);
    ctx.log.add("fuzz.violations", stats.violations.length + canaryProblems.length);
    ctx.log.add("fuzz.good_rounds", rounds);
    ctx.log.add("fuzz.rss_growth_mb", (after.rss - before.rss) / 1024 / 1024);
    ctx.log.add("fuzz.heap_growth_mb", (after.heapUsed - before.heapUsed) / 1024 / 1024);
    const problems = [...stats.violations, ...canaryProblems, ...errors.map((e) => `the good driver failed: ${e}`)];
    if (crashes > 0) problems.push(`${crashes} uncaught exceptions or unhandled rejections`);
    for (const problem of problems.slice(0, 5)) ctx.failures.push(`fuzz (seed ${seed}): ${problem}`);
  } finally {
    await shutdown();
    await cluster.stop();
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
}
