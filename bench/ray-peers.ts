/**
 * `pnpm bench --peers ray`: the same workloads on Ray, in the same `pnpm bench` invocation, so
 * that the table shows Ray's figures beside weft's from the same machine state.
 *
 * Each run, after weft's (never at the same time: they would share the 2 CPUs), spawns
 * bench/ray_peers.py in a fresh Python process (ray.init is once per process, and start-up is
 * a figure). The script starts its own local Ray cluster (`ray.init(num_cpus=2)`: a GCS, a
 * raylet and its workers), runs the selected workloads with the sizes of config.ts, shuts the
 * cluster down, checks that none of its processes is left, and prints one line
 * `WEFT_RAY_FIGURES {json}`; the figures go into the log as `ray.<figure>`.
 *
 * Ray's servers (GCS, raylet, agents, workers) listen on 127.0.0.1 only: the script sets
 * `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` before importing ray (see there).
 *
 * The Python is `WEFT_BENCH_PYTHON`, else `python3`. When it cannot `import ray`, `--peers ray`
 * says so in one line with the install command, and the weft figures still run; the exit code
 * stays 0 for that (Ray is an optional comparison, not part of the bench), while a Ray run that
 * fails or leaves processes behind counts as a failure (exit code 1).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Child } from "./child-process.ts";
import {
  W1_TASKS, W2_CALLS, W3A_CALLS, W3B_CALLS, W3N_CALLS, W3_WARMUP_CALLS, W4_BIG_BYTES, W4_SMALL_BYTES, W4_SMALL_OPS, W5_LEAVES,
  W6_CHILDREN, W6_PARENTS, W7_TASKS, W7_TASK_S, WARMUP_BURSTS, WARMUP_SEQUENTIAL, WARMUP_TASKS, type RunContext, type WorkloadId,
} from "./config.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const REPO_ROOT = path.dirname(BENCH_DIR.replace(/\/$/, ""));
const RAY_SCRIPT = path.join(BENCH_DIR, "ray_peers.py");
/** What bench/ray_peers.py prints before its JSON object. */
const FIGURES_PREFIX = "WEFT_RAY_FIGURES";
/** Workloads bench/ray_peers.py has (W4x needs two nodes; W8 to W11 use weft's map, async tasks and cache). */
export const RAY_WORKLOADS: ReadonlySet<WorkloadId> = new Set<WorkloadId>(["startup", "W1", "W2", "W3", "W4", "W5", "W6", "W7"]);
/** CPUs of Ray's local cluster, as weft's (weft-workloads.ts, cluster-workloads.ts). */
const RAY_NUM_CPUS = 2;
/** How long one Ray run may take (all workloads: ~30 s here, two of them cluster restarts for W7). */
const RAY_RUN_TIMEOUT_MS = 300_000;
/** How long the script may take to exit after printing its figures (its cluster is already down). */
const RAY_EXIT_TIMEOUT_MS = 10_000;
/** How long `import ray` may take when checking the Python. */
const RAY_PROBE_TIMEOUT_MS = 60_000;
/** The one line `--peers ray` prints when no Python here imports ray. */
const INSTALL_HINT =
  "install it outside the repo with `python3 -m venv /work/ray-venv && /work/ray-venv/bin/pip install ray==2.58.0 numpy` " +
  "and run with WEFT_BENCH_PYTHON=/work/ray-venv/bin/python";

/** What one Ray run prints (bench/ray_peers.py). */
interface RayOutput {
  figures: Record<string, number>;
  failures: string[];
  version: string;
  /** Processes of its cluster seen before ray.shutdown(). */
  processes: number;
}

/** A Python that imports ray, or why there is none. */
export type RayProbe = { python: string; version: string } | { missing: string };

/** Looks for a Python that imports ray and numpy: `WEFT_BENCH_PYTHON`, else `python3`. */
export function probeRay(): RayProbe {
  const fromEnv = process.env.WEFT_BENCH_PYTHON;
  const python = fromEnv || "python3";
  const r = spawnSync(python, ["-c", "import ray, numpy; print(ray.__version__)"], { encoding: "utf8", timeout: RAY_PROBE_TIMEOUT_MS });
  if (r.status === 0) return { python, version: r.stdout.trim() };
  const why = r.error ? r.error.message : (r.stderr.trim().split("\n").pop() ?? `exit code ${String(r.status)}`);
  const which = fromEnv ? `WEFT_BENCH_PYTHON=${fromEnv}` : "python3";
  return { missing: `ray: not measured: ${which} cannot import ray and numpy (${why}); ${INSTALL_HINT}` };
}

/** The sizes of config.ts and the selected workloads, as bench/ray_peers.py reads them. */
function scriptConfig(workloads: readonly WorkloadId[]): string {
  return JSON.stringify({
    workloads, NUM_CPUS: RAY_NUM_CPUS, WARMUP_TASKS, WARMUP_BURSTS, WARMUP_SEQUENTIAL, W1_TASKS, W2_CALLS, W3A_CALLS, W3B_CALLS, W3N_CALLS, W3_WARMUP_CALLS,
    W4_BIG_BYTES, W4_SMALL_BYTES, W4_SMALL_OPS, W5_LEAVES, W6_PARENTS, W6_CHILDREN, W7_TASKS, W7_TASK_S,
  });
}

/** Resolves once `child` has exited, or after `timeoutMs`; false if it is still running then. */
async function exited(child: Child, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (child.alive && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return !child.alive;
}

/** One run of bench/ray_peers.py: its figures go into `ctx.log` as `ray.*`, its failures into `ctx.failures`. */
async function runOnce(ctx: RunContext, python: string, args: string[]): Promise<void> {
  const child = Child.spawn("ray", python, args, {
    cwd: REPO_ROOT,
    // No __pycache__ in bench/: it would make --json's `dirty` true.
    env: { RAY_USAGE_STATS_ENABLED: "0", PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" },
  });
  try {
    const out = JSON.parse(await child.line(FIGURES_PREFIX, RAY_RUN_TIMEOUT_MS)) as RayOutput;
    for (const [name, value] of Object.entries(out.figures)) ctx.log.add(name, value);
    ctx.failures.push(...out.failures);
    if (!(await exited(child, RAY_EXIT_TIMEOUT_MS))) ctx.failures.push(`ray: the script still runs ${RAY_EXIT_TIMEOUT_MS} ms after its figures`);
  } catch (error) {
    ctx.failures.push(`ray: ${(error as Error).message}`);
  } finally {
    // SIGTERM makes the script shut its cluster down (then SIGKILL; Ray's processes started by
    // ray.init share the driver's fate).
    await child.stop();
  }
}

/**
 * Prepares `--peers ray` for the selected workloads: the function to call once per run, or
 * undefined when there is nothing to run on Ray, with the one line saying why in `notes` (for
 * under the table, where it is read).
 */
export function prepareRay(selected: ReadonlySet<WorkloadId>, notes: string[]): ((ctx: RunContext) => Promise<void>) | undefined {
  const workloads = [...selected].filter((w) => RAY_WORKLOADS.has(w));
  const skipped = [...selected].filter((w) => !RAY_WORKLOADS.has(w));
  if (workloads.length === 0) {
    notes.push(`ray: not measured: none of ${skipped.join(", ")} has a Ray version here (${[...RAY_WORKLOADS].join(", ")} do)`);
    return undefined;
  }
  const probe = probeRay();
  if ("missing" in probe) {
    notes.push(probe.missing);
    return undefined;
  }
  console.log(`ray ${probe.version} (${probe.python}), ray.init(num_cpus=${RAY_NUM_CPUS}): ${workloads.join(",")}` +
    (skipped.length > 0 ? `; not on Ray: ${skipped.join(",")}` : ""));
  const args = [RAY_SCRIPT, "--config", scriptConfig(workloads)];
  return (ctx) => runOnce(ctx, probe.python, args);
}
