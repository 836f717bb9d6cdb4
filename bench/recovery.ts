/**
 * `pnpm bench --recovery` (issue 5, part 7): how long a cluster takes to recover from losing a
 * node, on separate processes over loopback (bench/cluster-process.ts, default settings).
 *
 * One run: a head (with its node, where the driver joins) and a victim node (2 CPUs, resource
 * `w`). The driver makes LOST_OBJECTS results of 1 MiB on the victim (they stay there: only the
 * victim has them) and submits HOLD_TASKS tasks that need `w` (two run, two wait in its queue).
 * A second node with `w` joins, and the victim is killed with SIGKILL. Measured from the kill:
 *
 * - `recovery.detect_s`: until the head lists the victim as dead;
 * - `recovery.reschedule_s`: until the last of the victim's tasks has started again on the other
 *   node (the tasks report their start time; every process shares this machine's clock);
 * - `recovery.tasks_done_s`: until all their results are back at the driver (they run for
 *   HOLD_SHORT_MS there);
 * - `recovery.rebuild_s`: until a `get` of the lost results returns them (re-made from lineage
 *   on the other node, then pulled to the driver's node).
 *
 * Then a third node is frozen with SIGSTOP, as a machine that vanishes from the network without
 * closing its connections would: `recovery.detect_silent_s` is the time until the head declares
 * it dead for its missed heartbeats.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { get, init, shutdown, type ObjectRef } from "@weft/core";
import { stopAll, type Child } from "./child-process.ts";
import { madeSomewhere, spawnClusterProcess, waitForNodes } from "./cluster-workloads.ts";
import type { RunContext } from "./config.ts";
import { hold, ones, type Started } from "./recovery-tasks.ts";
import { attempt, check } from "./weft-workloads.ts";

const REPO_ROOT = path.dirname(fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, ""));
const READY = "WEFT_BENCH_READY";
/** Tasks caught on the victim: as many running as it has CPUs, and as many again queued. */
const VICTIM_CPUS = 2;
const HOLD_TASKS = 4;
/** How long a held task runs on the victim (it never ends there) and anywhere else. */
const HOLD_LONG_MS = 600_000;
const HOLD_SHORT_MS = 100;
/** Results that live only on the victim, each a 1 MiB Float64Array. */
const LOST_OBJECTS = 4;
const OBJECT_DOUBLES = 131_072;
/** How often the head's state API is polled for a node's death. */
const POLL_MS = 5;
/**
 * The cluster's processes log errors only: the warnings of a node loss (tasks retried, objects
 * rebuilt, a node declared dead) are what this bench causes on purpose.
 */
const QUIET = { WEFT_LOG_LEVEL: "error" };
/** Tasks and objects that need it run on the victim or on the node that replaces it. */
const ON_W = { resources: { w: 1 } };
/** A task pinned to the replacing node (to warm it up before the kill). */
const ON_SPARE = { resources: { spare: 1 } };

interface NodeView {
  nodeId: string;
  address: string;
  alive: boolean;
}

async function nodes(url: string, token: string): Promise<NodeView[]> {
  const res = await fetch(`${url.replace(/^ws/, "http")}/api/nodes`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /api/nodes: HTTP ${res.status}`);
  return (await res.json()) as NodeView[];
}

/** Polls until `check` holds; rejects after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The node id the head gives the node listening at `address`. */
async function nodeIdOf(url: string, token: string, address: string): Promise<string> {
  const node = (await nodes(url, token)).find((n) => n.address === address);
  if (!node) throw new Error(`the head does not list a node at ${address}`);
  return node.nodeId;
}

/** Seconds from `killedAt` (performance.now()) until the head lists `nodeId` as dead. */
async function deathSeen(url: string, token: string, nodeId: string, killedAt: number): Promise<number> {
  await until(`node ${nodeId} to be declared dead`, async () => (await nodes(url, token)).some((n) => n.nodeId === nodeId && !n.alive));
  return (performance.now() - killedAt) / 1000;
}

/** The tasks of the head's nodes named `name` on `nodeId`, by state. */
async function tasksOn(url: string, token: string, nodeId: string, name: string): Promise<string[]> {
  const res = await fetch(`${url.replace(/^ws/, "http")}/api/tasks`, { headers: { authorization: `Bearer ${token}` } });
  const tasks = (await res.json()) as Array<{ name: string; nodeId: string; state: string }>;
  return tasks.filter((task) => task.nodeId === nodeId && task.name === name).map((task) => task.state);
}

/** Starts a node process and waits until the head lists `count` live nodes; returns its id. */
async function addNode(name: string, args: string[], url: string, token: string, sessionRoot: string, children: Child[], count: number): Promise<{ child: Child; nodeId: string }> {
  const child = spawnClusterProcess(name, ["node", "--head", url, "--session", path.join(sessionRoot, name), ...args], token, QUIET);
  children.push(child);
  const address = await child.line(READY);
  await waitForNodes(url, token, count);
  return { child, nodeId: await nodeIdOf(url, token, address) };
}

/** One measured node loss; see the header. */
async function loseNode(ctx: RunContext, url: string, token: string, sessionRoot: string, children: Child[]): Promise<void> {
  const victim = await addNode("victim", ["--num-cpus", String(VICTIM_CPUS), "--resources", JSON.stringify({ w: VICTIM_CPUS })], url, token, sessionRoot, children, 2);
  // Warm: its workers have imported the task module.
  await get(Array.from({ length: VICTIM_CPUS }, () => hold.options(ON_W).remote("", 0, 0)));
  const lost: Array<ObjectRef<Float64Array>> = Array.from({ length: LOST_OBJECTS }, () => ones.options(ON_W).remote(OBJECT_DOUBLES));
  for (const ref of lost) await madeSomewhere(ref);
  const held = Array.from({ length: HOLD_TASKS }, () => hold.options(ON_W).remote(victim.nodeId, HOLD_LONG_MS, HOLD_SHORT_MS));
  await until("the held tasks to be running or queued on the victim", async () => (await tasksOn(url, token, victim.nodeId, "hold"))
    .filter((state) => state === "running" || state === "queued").length === HOLD_TASKS);
  const spare = await addNode("spare", ["--num-cpus", String(HOLD_TASKS), "--resources", JSON.stringify({ w: HOLD_TASKS, spare: 1 })], url, token, sessionRoot, children, 3);
  await get(hold.options(ON_SPARE).remote("", 0, 0));

  const killedAtWall = Date.now();
  const killedAt = performance.now();
  await victim.child.signal("SIGKILL");
  const [detect, tasks, rebuilt] = await Promise.all([
    deathSeen(url, token, victim.nodeId, killedAt),
    get(held).then((started) => ({ started, s: (performance.now() - killedAt) / 1000 })),
    get(lost).then((arrays) => ({ arrays, s: (performance.now() - killedAt) / 1000 })),
  ]);
  for (const run of tasks.started as Started[]) check("a held task's node after the kill", run.nodeId, spare.nodeId);
  for (const array of rebuilt.arrays) check("a rebuilt array's sum", array.reduce((sum, x) => sum + x, 0), OBJECT_DOUBLES);
  ctx.log.add("recovery.detect_s", detect);
  ctx.log.add("recovery.reschedule_s", Math.max(...tasks.started.map((run) => run.startedAt - killedAtWall)) / 1000);
  ctx.log.add("recovery.tasks_done_s", tasks.s);
  ctx.log.add("recovery.rebuild_s", rebuilt.s);
}

/** A node that stops answering without closing its connections: declared dead by heartbeats. */
async function silentNode(ctx: RunContext, url: string, token: string, sessionRoot: string, children: Child[]): Promise<void> {
  const live = (await nodes(url, token)).filter((node) => node.alive).length;
  const frozen = await addNode("frozen", ["--num-cpus", "1"], url, token, sessionRoot, children, live + 1);
  const stoppedAt = performance.now();
  await frozen.child.signal("SIGSTOP");
  ctx.log.add("recovery.detect_silent_s", await deathSeen(url, token, frozen.nodeId, stoppedAt));
  await frozen.child.signal("SIGKILL");
}

/**
 * One repetition on a fresh cluster; the driver leaves and every process this function started
 * is stopped by its pid, whatever happened.
 */
export async function runRecovery(ctx: RunContext): Promise<void> {
  const token = randomBytes(24).toString("hex");
  const sessionRoot = await mkdtemp(path.join(os.tmpdir(), "weft-bench-recovery-"));
  const children: Child[] = [];
  try {
    await attempt(ctx, "recovery", async () => {
      const head = spawnClusterProcess("head", ["head", "--session", path.join(sessionRoot, "head"), "--num-cpus", "1"], token, QUIET);
      children.push(head);
      const url = await head.line(READY);
      await init({ address: url, token, workingDir: REPO_ROOT });
      await loseNode(ctx, url, token, sessionRoot, children);
      await silentNode(ctx, url, token, sessionRoot, children);
    });
  } finally {
    await attempt(ctx, "shutdown", () => shutdown());
    await stopAll([...children].reverse());
    await rm(sessionRoot, { recursive: true, force: true });
  }
}
