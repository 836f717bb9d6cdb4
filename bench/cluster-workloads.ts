/**
 * The weft half of `pnpm bench --cluster`: a cluster of separate processes over loopback, the
 * driver (this process) joining it with `init({ address, token })`.
 *
 * - process "head": a head server with a node beside it (2 CPUs, custom resource nodeA), started
 *   through the library entry points by bench/cluster-process.ts; the driver connects to the
 *   head's port and is served by that node. Start-up, W1, W2, W3 (W3a, W3b, W3n), W4 and W5 run
 *   on it alone, as issue 4 asks ("a head and one node").
 * - process "node-b": a second node (1 CPU, custom resource nodeB), started for W4x only, so
 *   that it does not take spilled tasks of the other workloads.
 *
 * `startup.s` runs from spawning the head process to the first task's result in the driver.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { get, init, shutdown, wait, type ObjectRef } from "@weft/core";
import { Child, stopAll } from "./child-process.ts";
import { W4_BIG_BYTES, gbPerS, type RunContext, type WorkloadId } from "./config.ts";
import { now, secondsSince } from "./stats.ts";
import { QUIESCED, quiesce } from "./quiesce.ts";
import { nodeOf, ones, sumWhere, tiny } from "./tasks.ts";
import { attempt, check, w1, w2, w3ab, w3n, w4, w5, warmUp } from "./weft-workloads.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const REPO_ROOT = path.dirname(BENCH_DIR.replace(/\/$/, ""));
const CLUSTER_SCRIPT = path.join(BENCH_DIR, "cluster-process.ts");
/** What bench/cluster-process.ts prints once it serves, followed by its ws:// URL. */
const READY = "WEFT_BENCH_READY";
/** CPUs of the node beside the head: the steady workloads run there. */
const HEAD_NODE_CPUS = 2;
/** Custom resources that pin W4x's tasks: nodeA on the node beside the head, nodeB on the second node. */
const ON_A = { resources: { nodeA: 1 } };
const ON_B = { resources: { nodeB: 1 } };
/** How long the second node may take to appear in the head's state API after it printed ready. */
const REGISTER_TIMEOUT_MS = 30_000;

/**
 * Node options for the cluster's processes, split at spaces (absent: none), e.g.
 * `WEFT_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile them: NODE_OPTIONS
 * refuses --cpu-prof.
 */
const NODE_ARGS = (process.env.WEFT_BENCH_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");

/**
 * Spawns `node NODE_ARGS --import tsx bench/cluster-process.ts ARGS` with the token (and `env`) in
 * its environment; `nodeArgs` are more of Node's own flags for this process alone.
 */
export function spawnClusterProcess(name: string, args: string[], token: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Child {
  return Child.spawn(name, process.execPath, [...NODE_ARGS, ...nodeArgs, "--import", "tsx", CLUSTER_SCRIPT, ...args], { cwd: REPO_ROOT, env: { ...env, WEFT_TOKEN: token } });
}

/**
 * Waits until the head's state API lists `count` live nodes: a node that printed ready has sent
 * its registration, but a task pinned to it fails as unschedulable until the head has read it.
 */
export async function waitForNodes(url: string, token: string, count: number): Promise<void> {
  const api = `${url.replace(/^ws/, "http")}/api/nodes`;
  const deadline = Date.now() + REGISTER_TIMEOUT_MS;
  let seen = 0;
  for (;;) {
    const res = await fetch(api, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${api}: HTTP ${res.status} ${await res.text()}`);
    const nodes = (await res.json()) as Array<{ alive: boolean }>;
    seen = nodes.filter((n) => n.alive).length;
    if (seen >= count) return;
    if (Date.now() > deadline) throw new Error(`the head lists ${seen} live node(s), expected ${count}, ${REGISTER_TIMEOUT_MS} ms after the node was ready`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Resolves once `ref`'s task has finished, wherever its value is, without moving the value:
 * `wait` with a timeout pulls a remote object to the driver's node before it calls it ready (as
 * Ray's fetch_local), while `wait` with timeoutMs 0 counts an object ready where it was made.
 */
export async function madeSomewhere(ref: ObjectRef<unknown>): Promise<void> {
  while ((await wait([ref], { timeoutMs: 0 })).ready.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * W4x: a task pinned to node B makes a 100 MB Float64Array (it stays in B's store), then a task
 * pinned to node A sums it: the clock covers the task, pulling the object from B and the sum.
 * One warm-up round (the peer link opens, modules load, paths compile), then one measured.
 */
async function w4x(ctx: RunContext, url: string, token: string, sessionRoot: string, children: Child[]): Promise<void> {
  const nodeB = spawnClusterProcess("node-b", [
    "node", "--head", url, "--session", path.join(sessionRoot, "node-b"), "--num-cpus", "1", "--resources", JSON.stringify(ON_B.resources),
  ], token);
  children.push(nodeB);
  await nodeB.line(READY);
  await waitForNodes(url, token, 2);
  const [a, b] = await get([nodeOf.options(ON_A).remote(), nodeOf.options(ON_B).remote()]);
  if (a === b) throw new Error(`tasks pinned to nodeA and to nodeB both ran on node ${String(a)}`);

  const n = W4_BIG_BYTES / 8;
  const once = async (): Promise<number> => {
    const ref = ones.options(ON_B).remote(n);
    await madeSomewhere(ref);
    const t0 = now();
    const [total, where] = await get(sumWhere.options(ON_A).remote(ref));
    const s = secondsSince(t0);
    check("W4x sum", total, n);
    check("W4x summing node", where, a);
    return s;
  };
  await once();
  const s = await once();
  ctx.log.add("W4x.s", s);
  ctx.log.add("W4x.gb_per_s", gbPerS(W4_BIG_BYTES, s));
}

type Workload = (ctx: RunContext) => Promise<void>;

const HEAD_ONLY_WORKLOADS: ReadonlyArray<readonly [WorkloadId, Workload]> = [
  ["W1", w1], ["W2", w2], ["W3", async (ctx) => { await w3ab(ctx); await w3n(ctx, HEAD_NODE_CPUS); }], ["W4", w4], ["W5", w5],
];

/**
 * One repetition of the selected cluster workloads on a fresh cluster: start-up, warm-up, the
 * workloads on the head's node, W4x with a second node; then the driver leaves and every process
 * this function started is stopped by its pid (SIGTERM, then SIGKILL), whatever happened.
 */
export async function runCluster(ctx: RunContext): Promise<void> {
  const token = randomBytes(24).toString("hex");
  const sessionRoot = await mkdtemp(path.join(os.tmpdir(), "weft-bench-"));
  const children: Child[] = [];
  let url = "";
  try {
    const started = await attempt(ctx, "startup", async () => {
      const t0 = now();
      const head = spawnClusterProcess("head", [
        "head", "--session", path.join(sessionRoot, "head"), "--num-cpus", String(HEAD_NODE_CPUS), "--resources", JSON.stringify(ON_A.resources),
      ], token);
      children.push(head);
      url = await head.line(READY);
      // The repository is the job's working directory, as a project's root would be: packed
      // (~0.2 MB, node_modules and .gitignore'd paths left out), shipped, and the workers import
      // bench/tasks.ts and bench/actors.ts from their copy (@weft/core through the node's link).
      // Not bench/ alone: without the root package.json ("type": "module") beside them, the
      // workers load the bench modules as CommonJS with a second copy of @weft/core, and actor
      // classes are then not found (`instanceof Actor` fails): a runtime bug, reported.
      await init({ address: url, token, workingDir: REPO_ROOT });
      check("first task", await get(tiny.remote(7)), 7);
      const s = secondsSince(t0);
      if (ctx.workloads.has("startup")) ctx.log.add("startup.s", s);
      await warmUp();
    });
    if (!started) return;
    for (const [id, body] of HEAD_ONLY_WORKLOADS) {
      if (!ctx.workloads.has(id)) continue;
      if (QUIESCED.has(id)) await quiesce();
      await attempt(ctx, id, () => body(ctx));
    }
    if (ctx.workloads.has("W4x")) {
      await quiesce();
      await attempt(ctx, "W4x", () => w4x(ctx, url, token, sessionRoot, children));
    }
  } finally {
    await attempt(ctx, "shutdown", () => shutdown());
    // Nodes before the head, so that none of them sees its head vanish while it still runs.
    await stopAll([...children].reverse());
    await rm(sessionRoot, { recursive: true, force: true });
  }
}
