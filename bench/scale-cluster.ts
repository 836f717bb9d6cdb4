/**
 * A simulated cluster for `pnpm bench --scale` (and tests that need many nodes): one head process
 * and N small nodes on loopback, several nodes per process. Each node is its own
 * `startClusterNode` call (bench/cluster-process.ts `node --count K`): its own listener, head
 * connection, heartbeats, worker pool and session directory, the code path of `weft start`; only
 * the process (and so the Node runtime and its memory) is shared, so that 100 nodes fit on a
 * machine of 2 CPUs.
 *
 *   const cluster = await startScaleCluster({ nodes: 100, token, sessionRoot });
 *   try { … cluster.url, cluster.head.pid … } finally { await cluster.stop(); }
 */
import path from "node:path";
import { stopAll, type Child } from "./child-process.ts";
import { spawnClusterProcess, waitForNodes } from "./cluster-workloads.ts";

/** What bench/cluster-process.ts prints once it serves, followed by its ws:// URL(s). */
const READY = "WEFT_BENCH_READY";
/**
 * Log level of the simulated cluster's processes unless WEFT_LOG_LEVEL says otherwise: with 100
 * nodes, each node's stop is a warning ("peer node died") on each of the 99 others.
 */
const LOG_LEVEL = process.env.WEFT_LOG_LEVEL ?? "error";
/**
 * How long the node processes may take to print their readiness line, per simulated node of the
 * cluster: starting one (its worker threads load and compile the worker's modules) costs about a
 * CPU second here, and every process starts at once on 2 CPUs.
 */
const READY_MS_PER_NODE = 2_000;
/** The same, for the cluster as a whole: a floor for small clusters. */
const READY_MIN_MS = 60_000;
/** Simulated nodes per process by default: 10 processes for 100 nodes. */
export const NODES_PER_PROCESS = 10;

/** Options of {@link startScaleCluster}. */
export interface ScaleClusterOptions {
  /** Simulated nodes besides the head's own node. */
  nodes: number;
  /** The cluster's token. */
  token: string;
  /** Directory under which every process gets its session directory. */
  sessionRoot: string;
  /** Nodes per process. @default NODES_PER_PROCESS */
  nodesPerProcess?: number;
  /** CPUs of each simulated node (each keeps one worker per CPU, at least one). @default 1 */
  cpusPerNode?: number;
  /** Custom resources of each simulated node. @default none */
  resources?: Record<string, number>;
  /**
   * CPUs of the node that runs beside the head, in the head's process. @default 0: nothing runs
   * in the head's process, so its CPU time and memory are the head's (and an idle node's).
   */
  headCpus?: number;
  /**
   * Also start a node of 0 CPUs in a process of its own, for a driver: every task it is given
   * needs a CPU, so it spills each one to the head, which places it on a simulated node.
   * @default false
   */
  driverNode?: boolean;
  /** Node's flags for the head's process (e.g. `--cpu-prof` to profile it). @default none */
  headNodeArgs?: string[];
}

/** A started simulated cluster. */
export interface ScaleCluster {
  /** ws:// URL of the head (drivers connecting there are served by the node beside it). */
  readonly url: string;
  /** The head's process. */
  readonly head: Child;
  /** The processes of the simulated nodes, each with its nodes' URLs. */
  readonly nodeProcesses: ReadonlyArray<{ child: Child; urls: string[] }>;
  /** Every simulated node's ws:// URL (drivers may connect to one of them). */
  readonly nodeUrls: readonly string[];
  /** ws:// URL of the 0-CPU driver node, with `driverNode`. */
  readonly driverUrl: string | undefined;
  /** Stops every process by its pid (nodes first, then the head); never throws. */
  stop(): Promise<void>;
}

/**
 * Starts a head and `nodes` simulated nodes, and resolves once the head lists them all alive.
 * On failure every process started so far is stopped before the error propagates.
 */
export async function startScaleCluster(options: ScaleClusterOptions): Promise<ScaleCluster> {
  const perProcess = options.nodesPerProcess ?? NODES_PER_PROCESS;
  const children: Child[] = [];
  const stop = (): Promise<void> => stopAll([...children].reverse());
  try {
    const head = spawnClusterProcess("head", [
      "head", "--session", path.join(options.sessionRoot, "head"), "--num-cpus", String(options.headCpus ?? 0),
    ], options.token, { WEFT_LOG_LEVEL: LOG_LEVEL }, options.headNodeArgs);
    children.push(head);
    const url = await head.line(READY);
    const pending: Array<Promise<{ child: Child; urls: string[] }>> = [];
    for (let first = 0; first < options.nodes; first += perProcess) {
      const count = Math.min(perProcess, options.nodes - first);
      const name = `nodes-${first}-${first + count - 1}`;
      const child = spawnClusterProcess(name, [
        "node", "--head", url, "--session", path.join(options.sessionRoot, name), "--count", String(count),
        "--num-cpus", String(options.cpusPerNode ?? 1), "--resources", JSON.stringify(options.resources ?? {}),
      ], options.token, { WEFT_LOG_LEVEL: LOG_LEVEL });
      children.push(child);
      pending.push(child.line(READY, READY_MIN_MS + READY_MS_PER_NODE * options.nodes).then((line) => ({ child, urls: line.split(" ") })));
    }
    let driverReady: Promise<string | undefined> = Promise.resolve(undefined);
    if (options.driverNode) {
      const child = spawnClusterProcess("driver-node", [
        "node", "--head", url, "--session", path.join(options.sessionRoot, "driver-node"), "--num-cpus", "0",
      ], options.token, { WEFT_LOG_LEVEL: LOG_LEVEL });
      children.push(child);
      driverReady = child.line(READY, READY_MIN_MS + READY_MS_PER_NODE * options.nodes);
    }
    // Awaited together, so that one failing leaves no other rejection unobserved.
    const [nodeProcesses, driverUrl] = await Promise.all([Promise.all(pending), driverReady]);
    // The head's own node counts as one.
    await waitForNodes(url, options.token, options.nodes + 1 + (options.driverNode ? 1 : 0));
    return { url, head, nodeProcesses, nodeUrls: nodeProcesses.flatMap((p) => p.urls), driverUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
