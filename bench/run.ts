/**
 * `pnpm bench`: the weft benchmark runner (workloads in /work/shared/BENCHMARKS.md).
 *
 *   pnpm bench [--cluster] [--runs N] [--only W1,W2] [--json FILE]
 *
 * `--only` takes workload ids (startup, W1, W2, W3, W4, W5, W6, W7; W3a, W3b and W3n select W3)
 * and/or a side: `piscina` (alias `baselines`: piscina and the copy floor only, no weft) or
 * `weft` (no baselines). W3's targets are ratios to piscina's W1 and W2, so `--only W3` measures
 * those two baselines too.
 * Each run measures the baselines and then weft, so both see the same machine state.
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { runBaselines } from "./baselines.ts";
import { WORKLOAD_IDS, type RunContext, type WorkloadId } from "./config.ts";
import { calibratePiSamples } from "./pi-calibration.ts";
import { renderTable, writeJson } from "./report.ts";
import { FigureLog } from "./stats.ts";

const USAGE = `usage: pnpm bench [--cluster] [--runs N] [--only W1,W2,...|piscina|weft] [--json FILE]
  --runs N     repetitions of every workload (default 3); the table shows median and min–max
  --only LIST  workloads (${WORKLOAD_IDS.join(", ")}; W3 = W3a, W3b, W3n) and/or a side: piscina (baselines only), weft
  --json FILE  also write the figures as JSON (mode, runs, commit, figures)
  --cluster    cluster-mode benchmarks (not available yet)`;

/** Exit code for a usage error or an unavailable mode. */
const EXIT_USAGE = 2;
/** How long the process may linger after the last shutdown before we say so and exit. */
const EXIT_GRACE_MS = 5_000;

/** What the command line asks for. */
interface Plan {
  runs: number;
  json: string | undefined;
  workloads: Set<WorkloadId>;
  weft: boolean;
  baselines: boolean;
}

class UsageError extends Error {}

function parseOnly(list: string | undefined): Pick<Plan, "workloads" | "weft" | "baselines"> {
  const workloads = new Set<WorkloadId>();
  let weft = false;
  let baselines = false;
  for (const raw of (list ?? "").split(",").map((t) => t.trim()).filter(Boolean)) {
    const token = raw.toLowerCase();
    const id = WORKLOAD_IDS.find((w) => w.toLowerCase() === token);
    if (id) workloads.add(id);
    else if (token === "piscina" || token === "baselines" || token === "baseline") baselines = true;
    else if (token === "weft") weft = true;
    else if (/^w3[abn]$/.test(token)) workloads.add("W3"); // W3a, W3b and W3n are measured together
    else throw new UsageError(`--only: unknown workload '${raw}' (expected ${WORKLOAD_IDS.join(", ")}, piscina or weft)`);
  }
  // No side named means both sides; no workload named means all of them.
  if (!weft && !baselines) weft = baselines = true;
  if (workloads.size === 0) for (const w of WORKLOAD_IDS) workloads.add(w);
  return { workloads, weft, baselines };
}

function parsePlan(argv: string[]): Plan | "cluster" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      cluster: { type: "boolean", default: false },
      runs: { type: "string", default: "3" },
      only: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.cluster) return "cluster";
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got '${values.runs}'`);
  return { runs, json: values.json, ...parseOnly(values.only) };
}

/** Loads the weft half lazily, so that `--only piscina` works before the runtime exists. */
async function loadWeft(ctx: RunContext): Promise<((ctx: RunContext) => Promise<void>) | undefined> {
  try {
    return (await import("./weft-workloads.ts")).runWeft;
  } catch (error) {
    const failure = `weft: cannot load the runtime (@weft/core): ${(error as Error).message}`;
    // Said at once, not only at the end, since the baselines may still take a minute.
    console.error(`${failure}; measuring the baselines only`);
    ctx.failures.push(failure);
    return undefined;
  }
}

async function main(): Promise<number> {
  let plan: Plan | "cluster";
  try {
    plan = parsePlan(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (plan === "cluster") {
    console.error("cluster mode benchmarks arrive with cluster mode");
    return EXIT_USAGE;
  }
  // Calibrated once per process so that every run, and both sides, use one sample count.
  const piSamples = plan.workloads.has("W7") ? calibratePiSamples() : 0;
  const ctx: RunContext = { log: new FigureLog(), workloads: plan.workloads, piSamples, failures: [] };
  const sides = [plan.baselines && "baselines", plan.weft && "weft"].filter(Boolean).join(" + ");
  console.log(`weft bench: embedded, ${plan.runs} run(s), ${[...plan.workloads].join(",")} (${sides})`);
  console.log(`node ${process.version}, ${os.availableParallelism()} CPUs, ${os.cpus()[0]?.model ?? "unknown CPU"}` +
    (piSamples ? `, W7 task = ${piSamples.toLocaleString("en-US")} samples` : ""));
  const runWeft = plan.weft ? await loadWeft(ctx) : undefined;
  for (let run = 1; run <= plan.runs; run++) {
    console.error(`run ${run}/${plan.runs}…`);
    if (plan.baselines) await runBaselines(ctx);
    if (runWeft) await runWeft(ctx);
  }
  const figures = ctx.log.summaries();
  console.log(figures.size > 0 ? `\n${renderTable(figures)}` : "\nno figures measured");
  if (plan.json) {
    writeJson(plan.json, plan.runs, figures);
    console.log(`\nwrote ${plan.json}`);
  }
  for (const failure of ctx.failures) console.error(`FAILED ${failure}`);
  return ctx.failures.length > 0 ? 1 : 0;
}

const code = await main();
process.exitCode = code;
// A runtime that leaves a handle open after shutdown() would hang `pnpm bench`; report it
// rather than hide it, then exit. unref() so this timer alone never keeps the process alive.
setTimeout(() => {
  console.error(`bench: process still alive ${EXIT_GRACE_MS} ms after the last workload (open handles after shutdown?)`);
  process.exit(code === 0 ? 1 : code);
}, EXIT_GRACE_MS).unref();
