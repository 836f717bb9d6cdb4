/**
 * `pnpm bench`: the weft benchmark runner (workloads in /work/shared/BENCHMARKS.md).
 *
 *   pnpm bench [--cluster] [--runs N] [--only W1,W2] [--json FILE] [--peers ray]
 *   pnpm bench --recovery [--runs N] [--json FILE]
 *   pnpm bench --fuzz [--runs N] [--json FILE]
 *   pnpm bench --scale [--only S1,S3] [--scale-actors N] [--scale-tasks N] [--scale-nodes 2,10] [--runs N] [--json FILE]
 *
 * `--only` takes workload ids (startup, W1, W2, W3, W4, W4x, W5, W6, W7; W3a, W3b and W3n
 * select W3) and/or a side: `piscina` (aliases `baselines`, `floor`: the baselines only, no
 * weft) or `weft` (no baselines). W3's targets are ratios to piscina's W1 and W2, so `--only W3`
 * measures those two baselines too.
 * Embedded mode (default): the baselines are piscina and the copy floor; W4x does not apply.
 * `--cluster` (cluster-workloads.ts): separate processes over loopback, the baselines are the
 * ws floors between two plain Node processes (ws-floor.ts); W6 and W7 do not apply.
 * Each run measures the baselines and then weft, so both see the same machine state.
 * `--recovery` (recovery.ts): how long a cluster of separate processes takes to recover from a
 * node's SIGKILL (detection, tasks rescheduled, lost objects rebuilt); no baselines.
 * `--fuzz` (fuzz.ts): 100,000 random and mutated frames at a cluster in this process; frames/s,
 * connections closed, crashes (must be 0) and memory growth; no baselines.
 * `--peers ray` (ray-peers.ts): each run then also runs the selected workloads on Ray, after
 * weft's, in a Python process of its own; without a Python that imports ray it says how to
 * install it and the rest runs (exit code 0).
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { runBaselines } from "./baselines.ts";
import {
  CLUSTER_WORKLOADS, S1_ACTORS, S2_TASKS, S3_NODE_COUNTS, SCALE_WORKLOAD_IDS, WORKLOAD_IDS, type RunContext, type ScaleSizes, type WorkloadId,
} from "./config.ts";
import { calibratePiSamples } from "./pi-calibration.ts";
import { prepareRay } from "./ray-peers.ts";
import { renderTable, writeJson, type Mode } from "./report.ts";
import { FigureLog } from "./stats.ts";
import { runFloors } from "./ws-floor.ts";

const USAGE = `usage: pnpm bench [--cluster] [--runs N] [--only W1,W2,...|piscina|weft] [--json FILE] [--peers ray]
       pnpm bench --recovery [--runs N] [--json FILE]
       pnpm bench --fuzz [--runs N] [--json FILE]
       pnpm bench --scale [--only S1,S2,S3,S4] [--scale-actors N] [--scale-tasks N] [--scale-nodes LIST] [--runs N] [--json FILE]
  --runs N     repetitions of every workload (default 3; 1 for --fuzz and --scale); the table shows median and min–max
  --only LIST  workloads (${WORKLOAD_IDS.join(", ")}; W3 = W3a, W3b, W3n) and/or a side: piscina or floor (the baselines only), weft
  --json FILE  also write the figures as JSON (mode, runs, commit, figures)
  --peers ray  also run the selected workloads (startup, W1-W7) on Ray, after weft in each run: a Python with ray from
               WEFT_BENCH_PYTHON (else python3); the table gets Ray's column
  --cluster    a head, a node and the driver in separate processes over loopback (W4x adds a second node);
               baselines: the ws floors between two plain Node processes. W6, W7: embedded only; W4x: cluster only
  --recovery   time from a node's SIGKILL until it is declared dead, its tasks run elsewhere and its lost objects
               are rebuilt, and until a frozen node (SIGSTOP) is declared dead (separate processes over loopback)
  --fuzz       100,000 random and mutated frames at a head's, a node's and a peer's port of a cluster in this process:
               frames/s, connections closed, crashes (must be 0), memory growth, while a good driver keeps working
  --scale      S1–S4 only (each takes minutes, hence one run by default): S1 ${S1_ACTORS.toLocaleString("en-US")} actors created and called once,
               S2 ${S2_TASKS.toLocaleString("en-US")} queued tasks (both embedded, s and peak RSS), S3 the head's CPU per spilled task and the
               spillback round trip with ${S3_NODE_COUNTS.join(", ")} simulated nodes, S4 the head's RSS after S2's tasks and S1's actors
               created and killed (in a cluster)
  --scale-actors N  actors of S1 and S4 (default ${S1_ACTORS.toLocaleString("en-US")})
  --scale-tasks N   tasks of S2 and S4 (default ${S2_TASKS.toLocaleString("en-US")})
  --scale-nodes LIST  node counts of S3 (default ${S3_NODE_COUNTS.join(",")}); the ratio compares the last with the first`;

/** Exit code for a usage error or an unavailable mode. */
const EXIT_USAGE = 2;
/** How long the process may linger after the last shutdown before we say so and exit. */
const EXIT_GRACE_MS = 5_000;

/** What the command line asks for. */
interface Plan {
  mode: Mode;
  runs: number;
  json: string | undefined;
  workloads: Set<WorkloadId>;
  weft: boolean;
  baselines: boolean;
  /** `--peers ray`: the selected workloads on Ray too. */
  ray: boolean;
  /** Sizes of S1–S4, with --scale. */
  scale?: ScaleSizes;
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
    else if (["piscina", "baselines", "baseline", "floor", "floors"].includes(token)) baselines = true;
    else if (token === "weft") weft = true;
    else if (/^w3[abn]$/.test(token)) workloads.add("W3"); // W3a, W3b and W3n are measured together
    else throw new UsageError(`--only: unknown workload '${raw}' (expected ${WORKLOAD_IDS.join(", ")}, piscina or weft)`);
  }
  // No side named means both sides; no workload named means all of them.
  if (!weft && !baselines) weft = baselines = true;
  if (workloads.size === 0) for (const w of WORKLOAD_IDS) workloads.add(w);
  return { workloads, weft, baselines };
}

/** `--only` with --scale: S ids (all four by default). */
function parseScaleOnly(list: string | undefined): Set<WorkloadId> {
  const workloads = new Set<WorkloadId>();
  for (const raw of (list ?? "").split(",").map((t) => t.trim()).filter(Boolean)) {
    const id = SCALE_WORKLOAD_IDS.find((w) => w.toLowerCase() === raw.toLowerCase());
    if (!id) throw new UsageError(`--only: with --scale, expected ${SCALE_WORKLOAD_IDS.join(", ")}, got '${raw}'`);
    workloads.add(id);
  }
  return workloads.size > 0 ? workloads : new Set(SCALE_WORKLOAD_IDS);
}

function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a positive integer, got '${text}'`);
  return n;
}

function parseSizes(values: { "scale-actors"?: string; "scale-tasks"?: string; "scale-nodes"?: string }): ScaleSizes {
  const nodeCounts = values["scale-nodes"] === undefined ? [...S3_NODE_COUNTS]
    : values["scale-nodes"].split(",").map((t) => positiveInt("scale-nodes", t.trim(), 0));
  return {
    actors: positiveInt("scale-actors", values["scale-actors"], S1_ACTORS),
    tasks: positiveInt("scale-tasks", values["scale-tasks"], S2_TASKS),
    nodeCounts,
  };
}

function parsePlan(argv: string[]): Plan {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      cluster: { type: "boolean", default: false },
      recovery: { type: "boolean", default: false },
      fuzz: { type: "boolean", default: false },
      scale: { type: "boolean", default: false },
      "scale-actors": { type: "string" },
      "scale-tasks": { type: "string" },
      "scale-nodes": { type: "string" },
      runs: { type: "string" },
      only: { type: "string" },
      json: { type: "string" },
      peers: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  // One run of the fuzz by default: it is a check (100,000 frames) more than a timing.
  // The scale workloads take minutes each, and measure sizes more than noise.
  const runs = Number(values.runs ?? (values.fuzz || values.scale ? "1" : "3"));
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got '${String(values.runs)}'`);
  if (values.peers !== undefined && values.peers.toLowerCase() !== "ray") throw new UsageError(`--peers: unknown peer '${values.peers}' (expected ray)`);
  const ray = values.peers !== undefined;
  if (ray && (values.fuzz || values.recovery)) throw new UsageError("--peers ray compares workloads: it takes neither --fuzz nor --recovery");
  const sizeFlags = ["scale-actors", "scale-tasks", "scale-nodes"] as const;
  if (!values.scale && sizeFlags.some((f) => values[f] !== undefined)) throw new UsageError("--scale-actors, --scale-tasks and --scale-nodes go with --scale");
  if (values.scale) {
    if (values.cluster || values.recovery || values.fuzz) throw new UsageError("--scale runs S1–S4 only: it takes neither --cluster, --recovery nor --fuzz");
    return { mode: "scale", runs, json: values.json, workloads: parseScaleOnly(values.only), weft: true, baselines: false, ray: false, scale: parseSizes(values) };
  }
  if (values.fuzz) {
    if (values.cluster || values.recovery || values.only !== undefined) throw new UsageError("--fuzz fuzzes only: it takes neither --cluster, --recovery nor --only");
    return { mode: "fuzz", runs, json: values.json, workloads: new Set(), weft: true, baselines: false, ray: false };
  }
  if (values.recovery) {
    if (values.cluster || values.only !== undefined) throw new UsageError("--recovery measures recovery only: it takes neither --cluster nor --only");
    return { mode: "recovery", runs, json: values.json, workloads: new Set(), weft: true, baselines: false, ray: false };
  }
  const mode: Mode = values.cluster ? "cluster" : "embedded";
  const only = parseOnly(values.only);
  // Each mode runs the workloads it has; one named that it lacks is said, not silently dropped.
  const applies = (w: WorkloadId): boolean => (mode === "cluster" ? CLUSTER_WORKLOADS.has(w) : w !== "W4x");
  const skipped = [...only.workloads].filter((w) => !applies(w));
  if (values.only && skipped.length > 0) console.error(`--only: ${skipped.join(", ")} not measured in ${mode} mode`);
  const workloads = new Set([...only.workloads].filter(applies));
  if (workloads.size === 0) throw new UsageError(`--only: nothing left to measure in ${mode} mode`);
  return { mode, runs, json: values.json, ...only, workloads, ray };
}

/** Loads the weft half lazily, so that `--only piscina` works before the runtime exists. */
async function loadWeft(ctx: RunContext, mode: Mode): Promise<((ctx: RunContext) => Promise<void>) | undefined> {
  try {
    if (mode === "recovery") return (await import("./recovery.ts")).runRecovery;
    if (mode === "fuzz") return (await import("./fuzz.ts")).runFuzz;
    if (mode === "scale") return (await import("./scale-workloads.ts")).runScale;
    return mode === "cluster" ? (await import("./cluster-workloads.ts")).runCluster : (await import("./weft-workloads.ts")).runWeft;
  } catch (error) {
    const failure = `weft: cannot load the runtime (@weft/core): ${(error as Error).message}`;
    // Said at once, not only at the end, since the baselines may still take a minute.
    console.error(`${failure}; measuring the baselines only`);
    ctx.failures.push(failure);
    return undefined;
  }
}

async function main(): Promise<number> {
  let plan: Plan;
  try {
    plan = parsePlan(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  // Calibrated once per process so that every run, and both sides, use one sample count.
  const piSamples = plan.workloads.has("W7") ? calibratePiSamples() : 0;
  const ctx: RunContext = { log: new FigureLog(), workloads: plan.workloads, piSamples, failures: [], ...(plan.scale ? { scale: plan.scale } : {}) };
  const sides = [plan.baselines && "baselines", plan.weft && "weft", plan.ray && "ray"].filter(Boolean).join(" + ");
  const measured = plan.mode === "recovery" ? "node loss" : plan.mode === "fuzz" ? "hostile frames" : [...plan.workloads].join(",") +
    (plan.scale ? ` (${plan.scale.actors.toLocaleString("en-US")} actors, ${plan.scale.tasks.toLocaleString("en-US")} tasks, ${plan.scale.nodeCounts.join("/")} nodes)` : "");
  console.log(`weft bench: ${plan.mode}, ${plan.runs} run(s), ${measured} (${sides})`);
  console.log(`node ${process.version}, ${os.availableParallelism()} CPUs, ${os.cpus()[0]?.model ?? "unknown CPU"}` +
    (piSamples ? `, W7 task = ${piSamples.toLocaleString("en-US")} samples` : ""));
  const runWeft = plan.weft ? await loadWeft(ctx, plan.mode) : undefined;
  const runBase = plan.mode === "cluster" ? runFloors : runBaselines;
  const notes: string[] = [];
  const runRay = plan.ray ? prepareRay(plan.workloads, notes) : undefined;
  for (let run = 1; run <= plan.runs; run++) {
    console.error(`run ${run}/${plan.runs}…`);
    if (plan.baselines) await runBase(ctx);
    if (runWeft) await runWeft(ctx);
    if (runRay) await runRay(ctx);
  }
  const figures = ctx.log.summaries();
  console.log(figures.size > 0 ? `\n${renderTable(figures, plan.mode)}` : "\nno figures measured");
  if (plan.json) {
    writeJson(plan.json, plan.mode, plan.runs, figures);
    console.log(`\nwrote ${plan.json}`);
  }
  for (const note of notes) console.log(note);
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
