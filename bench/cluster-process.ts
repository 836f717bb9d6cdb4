/**
 * One process of the cluster that `pnpm bench --cluster` starts over loopback, through the
 * library entry points (not the `weft` CLI):
 *
 *   node --import tsx bench/cluster-process.ts head --session DIR [--num-cpus 2] [--resources '{"nodeA":1}']
 *   node --import tsx bench/cluster-process.ts node --head ws://… --session DIR [--num-cpus 1] [--resources '{"nodeB":1}'] [--count 1]
 *
 * `head` runs a head server with a node beside it (drivers that connect to the head's port are
 * served by that node); `node` runs `--count` standalone nodes (one by default) that register
 * with the head, each through its own `startClusterNode` call (its own listener, head connection,
 * workers and session directory DIR/node-<i>): the simulated nodes of `pnpm bench --scale`. The
 * token comes from the environment (WEFT_TOKEN), not the command line, so `ps` does not show it.
 * When ready the process prints one line on stdout, `WEFT_BENCH_READY <ws url> [<ws url>…]` (one
 * URL per node), and nothing else there (logs go to stderr). It stops on SIGTERM or SIGINT, and when its stdin closes (the
 * bench died without stopping it).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { startHeadServer } from "@weft/scheduler";
import { startClusterNode, startNodeBesideHead, type ClusterNode } from "@weft/worker-node";

/** The line the bench waits for (cluster-procs.ts); the URL follows it after one space. */
const READY_PREFIX = "WEFT_BENCH_READY";

type Stop = () => Promise<void>;

function parseResources(text: string | undefined): Record<string, number> {
  if (text === undefined) return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new TypeError(`--resources: expected a JSON object, got ${text}`);
  for (const [name, amount] of Object.entries(parsed)) {
    if (typeof amount !== "number") throw new TypeError(`--resources.${name}: expected a number, got ${String(amount)}`);
  }
  return parsed as Record<string, number>;
}

async function startHead(token: string, sessionDir: string, numCpus: number, resources: Record<string, number>): Promise<{ url: string; stop: Stop }> {
  const server = await startHeadServer({ port: 0, token });
  try {
    const beside = await startNodeBesideHead(server, { address: server.url, token, numCpus, resources, sessionDir });
    return {
      url: server.url,
      stop: async () => {
        await beside.stop();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Starts `count` nodes one after the other (a single one keeps `sessionDir` as its own); stops
 * those started so far if one fails, and all of them, last first, on stop.
 */
async function startNodes(token: string, head: string, sessionDir: string, numCpus: number, resources: Record<string, number>, count: number): Promise<{ url: string; stop: Stop }> {
  const nodes: ClusterNode[] = [];
  const stopAllNodes: Stop = async () => {
    for (const node of nodes.reverse()) await node.stop();
  };
  try {
    for (let i = 0; i < count; i++) {
      const dir = count === 1 ? sessionDir : path.join(sessionDir, `node-${i}`);
      // Loopback: these nodes serve drivers and peers of this machine only.
      nodes.push(await startClusterNode({ head, token, numCpus, resources, sessionDir: dir, host: "127.0.0.1" }));
    }
  } catch (error) {
    await stopAllNodes();
    throw error;
  }
  return { url: nodes.map((node) => node.address).join(" "), stop: stopAllNodes };
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      session: { type: "string" },
      head: { type: "string" },
      "num-cpus": { type: "string" },
      resources: { type: "string" },
      count: { type: "string" },
    },
  });
  const role = positionals[0];
  const token = process.env.WEFT_TOKEN;
  if (!token) throw new Error("WEFT_TOKEN is not set");
  if (!values.session) throw new Error("--session DIR is required");
  const resources = parseResources(values.resources);
  let started: { url: string; stop: Stop };
  if (role === "head") {
    started = await startHead(token, values.session, Number(values["num-cpus"] ?? 2), resources);
  } else if (role === "node") {
    if (!values.head) throw new Error("node: --head URL is required");
    const count = Number(values.count ?? 1);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`--count: expected a positive integer, got ${String(values.count)}`);
    started = await startNodes(token, values.head, values.session, Number(values["num-cpus"] ?? 1), resources, count);
  } else {
    throw new Error(`unknown role '${String(role)}' (expected head or node)`);
  }

  let stopping = false;
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`cluster-process ${role}: stop after ${why} failed: ${(error as Error)?.stack ?? String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // The bench holds our stdin open; it closes when the bench exits, however it exits.
  process.stdin.on("end", () => stop("stdin closed"));
  process.stdin.on("error", () => stop("stdin error"));
  process.stdin.resume();
  process.stdout.write(`${READY_PREFIX} ${started.url}\n`);
}

main().catch((error: unknown) => {
  console.error(`cluster-process: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
