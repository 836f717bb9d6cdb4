/**
 * Turns the per-run figures into the table on stdout and the `--json` object, and checks the
 * targets. Every target is a ratio to a baseline measured in the same run, because the
 * machines are shared and noisy and absolute numbers drift between runs (BENCHMARKS.md).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { Summary } from "./stats.ts";

/** A figure compared with its baseline; `factor` undefined means shown but not judged. */
interface Comparison {
  figure: string;
  baseline: string;
  /** `<=`: the figure should be at most factor × baseline (times); `>=`: at least (rates). */
  op: "<=" | ">=";
  factor?: number;
}

/** Which bench produced the figures: the embedded cluster, or separate processes over loopback. */
export type Mode = "embedded" | "cluster" | "recovery" | "fuzz" | "scale";

/** The targets of the issues, plus informational comparisons (start-up, p99s, W3n). */
const EMBEDDED_COMPARISONS: readonly Comparison[] = [
  { figure: "startup.s", baseline: "piscina.startup.s", op: "<=" },
  { figure: "W1.tasks_per_s", baseline: "piscina.W1.tasks_per_s", op: ">=", factor: 1.0 },
  { figure: "W2.median_us", baseline: "piscina.W2.median_us", op: "<=", factor: 1.5 },
  { figure: "W2.p99_us", baseline: "piscina.W2.p99_us", op: "<=" },
  // Actors (issue 3): a call should cost no more than a pool task, and calls skip scheduling.
  { figure: "W3a.calls_per_s", baseline: "piscina.W1.tasks_per_s", op: ">=", factor: 1.25 },
  { figure: "W3b.median_us", baseline: "piscina.W2.median_us", op: "<=", factor: 1.5 },
  { figure: "W3b.p99_us", baseline: "piscina.W2.p99_us", op: "<=" },
  { figure: "W3n.calls_per_s", baseline: "piscina.W1.tasks_per_s", op: ">=" },
  { figure: "W4.gb_per_s", baseline: "floor.copy_gb_per_s", op: ">=", factor: 0.35 },
  { figure: "W5.s", baseline: "piscina.W5.s", op: "<=", factor: 3 },
  { figure: "W6.s", baseline: "piscina.W6.s", op: "<=", factor: 3 },
  { figure: "W7.efficiency", baseline: "piscina.W7.efficiency", op: ">=", factor: 1.0 },
  // The map layer (issue 13): a map of tiny items far above piscina one run per item, and near
  // (within 2x of) the best hand-chunked piscina loop, as BENCHMARKS.md asks of Pool.map.
  { figure: "W8.items_per_s", baseline: "piscina.W8.items_per_s", op: ">=", factor: 10 },
  { figure: "W8.items_per_s", baseline: "piscina.W8_chunked.items_per_s", op: ">=", factor: 0.5 },
  // I/O fan-out (issue 13): overlapping async tasks beside Promise.all of the same fetches in one process.
  { figure: "W9.s", baseline: "floor.W9_promise_all_s", op: "<=", factor: 1.5 },
  // The result cache (issue 13): a hit beside a plain read of its file.
  { figure: "W11.us", baseline: "floor.W11_read_us", op: "<=" },
];

/**
 * Cluster mode (issue 4): the targets are ratios to the ws floors between two plain Node
 * processes; the rest is shown against the nearest floor, not judged.
 */
const CLUSTER_COMPARISONS: readonly Comparison[] = [
  { figure: "W1.tasks_per_s", baseline: "floor.ws_pipelined_msgs_per_s", op: ">=", factor: 0.1 },
  { figure: "W2.median_us", baseline: "floor.ws_rtt_us", op: "<=", factor: 2.5 },
  { figure: "W2.p99_us", baseline: "floor.ws_rtt_us", op: "<=" },
  { figure: "W3a.calls_per_s", baseline: "floor.ws_pipelined_msgs_per_s", op: ">=" },
  { figure: "W3b.median_us", baseline: "floor.ws_rtt_us", op: "<=" },
  { figure: "W3b.p99_us", baseline: "floor.ws_rtt_us", op: "<=" },
  { figure: "W3n.calls_per_s", baseline: "floor.ws_pipelined_msgs_per_s", op: ">=" },
  { figure: "W4.gb_per_s", baseline: "floor.ws_100mb_gb_per_s", op: ">=" },
  { figure: "W4x.gb_per_s", baseline: "floor.ws_100mb_gb_per_s", op: ">=", factor: 0.8 },
];

const COMPARISONS: Record<Mode, readonly Comparison[]> = { embedded: EMBEDDED_COMPARISONS, cluster: CLUSTER_COMPARISONS, recovery: [], fuzz: [], scale: [] };

/**
 * Recovery (issue 5): absolute targets, in seconds, since there is no baseline to recover
 * against. "A killed node is declared dead and its tasks rescheduled in ≤ 5 s with default
 * settings"; a node that goes silent is held to the same.
 */
const LIMITS: Readonly<Record<string, { max: number; unit: string }>> = {
  "recovery.detect_s": { max: 5, unit: " s" }, "recovery.reschedule_s": { max: 5, unit: " s" }, "recovery.detect_silent_s": { max: 5, unit: " s" },
  // Scale (issue 10): 10,000 actors in ≤ 10 s and ≤ 2 GB on 2 CPUs (judged at any count: a
  // smaller --scale-actors must pass too); the head's CPU per task flat within 1.5× from 2 to 100 nodes.
  "S1.s": { max: 10, unit: " s" }, "S1.rss_mb": { max: 2_000, unit: " MB" }, "S3.ratio_100_vs_2": { max: 1.5, unit: "×" },
};

/** Table order: weft figures first, each next to its baseline, then the baselines themselves. */
const FIGURE_ORDER = [
  "startup.s", "W1.tasks_per_s", "W2.median_us", "W2.p99_us",
  "W3a.calls_per_s", "W3b.median_us", "W3b.p99_us", "W3n.calls_per_s", "W4.s", "W4.gb_per_s", "W4.mb1_us", "W4x.s", "W4x.gb_per_s",
  "W5.s", "W6.s", "W7.t1_s", "W7.t2_s", "W7.efficiency", "W8.items_per_s", "W9.s", "W10.first_ms", "W10.items_per_s", "W11.us",
  "piscina.startup.s", "piscina.W1.tasks_per_s", "piscina.W2.median_us", "piscina.W2.p99_us",
  "piscina.W5.s", "piscina.W6.s", "piscina.W7.efficiency", "piscina.W8.items_per_s", "piscina.W8_chunked.items_per_s",
  "floor.copy_gb_per_s", "floor.W9_promise_all_s", "floor.W9_lanes_s", "floor.W11_read_us",
  "floor.ws_rtt_us", "floor.ws_pipelined_msgs_per_s", "floor.ws_100mb_gb_per_s",
  "recovery.detect_s", "recovery.reschedule_s", "recovery.tasks_done_s", "recovery.rebuild_s", "recovery.detect_silent_s",
  "fuzz.frames_per_s", "fuzz.frames", "fuzz.sessions", "fuzz.closes", "fuzz.crashes", "fuzz.violations", "fuzz.good_rounds",
  "fuzz.rss_growth_mb", "fuzz.heap_growth_mb",
  "S1.s", "S1.rss_mb", "S2.s", "S2.rss_mb",
  ...[2, 10, 50, 100].map((n) => `S3.head_us_per_task_${n}`), "S3.ratio_100_vs_2",
  ...[2, 10, 50, 100].flatMap((n) => [`S3.spill_rtt_us_${n}`, `S3.local_rtt_us_${n}`]), ...[2, 10, 50, 100].flatMap((n) => [`S3.head_idle_cpu_pct_${n}`, `S3.head_raw_us_per_task_${n}`, `S3.burst_s_${n}`]),
  "S4.head_rss_mb_100k", "S4.head_rss_mb_after_tasks", "S4.head_rss_mb", "S4.growth_vs_100k",
];

/** A number with about three significant digits, and thousands separators when large. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 100) return Math.round(x).toLocaleString("en-US");
  if (abs >= 10) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

function ordered(figures: Map<string, Summary>): string[] {
  const known = FIGURE_ORDER.filter((name) => figures.has(name));
  const rest = [...figures.keys()].filter((name) => !FIGURE_ORDER.includes(name));
  return [...known, ...rest];
}

/** Where a baseline comes from: "piscina", or the floor's own name (cluster mode has three). */
function sourceOf(baseline: string): string {
  if (baseline.startsWith("floor.")) return baseline.slice("floor.".length);
  return baseline.split(".")[0] ?? baseline;
}

/** The comparison columns of one row: baseline, ratio, target, result. */
function compare(name: string, figures: Map<string, Summary>, mode: Mode): string[] {
  const c = COMPARISONS[mode].find((x) => x.figure === name);
  const own = figures.get(name);
  const limit = LIMITS[name];
  if (own && limit !== undefined) return ["", "", `≤ ${formatNumber(limit.max)}${limit.unit}`, own.median <= limit.max ? "pass" : "MISS"];
  const base = c && figures.get(c.baseline);
  if (!c || !own || !base) return ["", "", "", ""];
  const ratio = own.median / base.median;
  const baseCell = `${formatNumber(base.median)} (${sourceOf(c.baseline)})`;
  if (c.factor === undefined) return [baseCell, `${ratio.toFixed(2)}×`, "—", ""];
  const pass = c.op === "<=" ? ratio <= c.factor : ratio >= c.factor;
  const target = `${c.op === "<=" ? "≤" : "≥"} ${c.factor}×`;
  return [baseCell, `${ratio.toFixed(2)}×`, target, pass ? "pass" : "MISS"];
}

/** Prefix of the figures measured on Ray (`--peers ray`, ray-peers.ts), shown beside weft's. */
const RAY_PREFIX = "ray.";
const RAY_HEADER = ["ray", "ray min–max", "vs ray"];
const RAY_LEGEND = "vs ray: weft's figure over Ray's for rates and efficiency, Ray's over weft's for times: above 1× weft is ahead";

/** Whether a larger value of `name` is better (rates, efficiency) rather than worse (times). */
function higherIsBetter(name: string): boolean {
  return /_per_s$|\.efficiency$/.test(name);
}

/**
 * Figures whose work differs between the two sides, so that their ratio means nothing: W7's
 * task is a JavaScript loop in weft and numpy in Ray, each calibrated to ~0.45 s on its own;
 * only the efficiency compares.
 */
const RAY_NOT_COMPARED: ReadonlySet<string> = new Set(["W7.t1_s", "W7.t2_s"]);

/** The Ray columns of a weft row: Ray's median and min–max, and how far weft is ahead (above 1×) or behind. */
function rayCells(name: string, figures: Map<string, Summary>): string[] {
  const own = figures.get(name);
  const ray = figures.get(RAY_PREFIX + name);
  if (!ray) return ["", "", ""];
  const cells = [formatNumber(ray.median), `${formatNumber(ray.min)}–${formatNumber(ray.max)}`];
  if (!own || RAY_NOT_COMPARED.has(name)) return [...cells, own ? "—" : ""];
  const gain = higherIsBetter(name) ? own.median / ray.median : ray.median / own.median;
  return [...cells, `${gain.toFixed(2)}×`];
}

/** Renders the one table: figure, median, min–max, baseline, ratio, target, pass/miss (and Ray's column, if measured). */
export function renderTable(figures: Map<string, Summary>, mode: Mode): string {
  // Ray's columns only when some Ray figure has a weft figure to stand beside (not with --only piscina).
  const peers = [...figures.keys()].some((name) => name.startsWith(RAY_PREFIX) && figures.has(name.slice(RAY_PREFIX.length)));
  const header = ["figure", "median", "min–max", "baseline", "ratio", "target", "result", ...(peers ? RAY_HEADER : [])];
  // A Ray figure with a weft figure of its name is shown in that row; the others keep rows of their own.
  const names = ordered(figures).filter((name) => !(name.startsWith(RAY_PREFIX) && figures.has(name.slice(RAY_PREFIX.length))));
  const rows = names.map((name) => {
    const s = figures.get(name) as Summary;
    return [name, formatNumber(s.median), `${formatNumber(s.min)}–${formatNumber(s.max)}`, ...compare(name, figures, mode),
      ...(peers ? rayCells(name, figures) : [])];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  // Names left-aligned, numbers right-aligned so that magnitudes line up.
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...rows.map(line), ...(peers ? ["", RAY_LEGEND] : [])].join("\n");
}

/** `git rev-parse HEAD` of the working directory, or "unknown" outside a repository. */
export function currentCommit(): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

/**
 * Whether the working tree differs from HEAD (untracked files included, since new runtime
 * files are untracked until committed): then `commit` alone does not name the code measured.
 */
export function workingTreeDirty(): boolean {
  try {
    return execFileSync("git", ["status", "--porcelain"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
  } catch {
    return false;
  }
}

/** Writes the `--json` object, shaped as in BENCHMARKS.md, so runs can be compared across commits. */
export function writeJson(file: string, mode: Mode, runs: number, figures: Map<string, Summary>): void {
  const out = {
    mode,
    runs,
    commit: currentCommit(),
    // Not in BENCHMARKS.md's shape; an extra key so a figure from uncommitted code is not
    // mistaken for one of `commit`.
    dirty: workingTreeDirty(),
    figures: Object.fromEntries(ordered(figures).map((name) => [name, figures.get(name)])),
  };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}
