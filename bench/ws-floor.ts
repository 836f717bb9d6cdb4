/**
 * The floors of `pnpm bench --cluster`, measured in the same run as weft: two plain Node
 * processes (bench/ws-floor-peer.mjs as server and as client, no weft, no tsx) over one
 * loopback WebSocket. Figures: `floor.ws_rtt_us`, `floor.ws_pipelined_msgs_per_s`,
 * `floor.ws_100mb_gb_per_s` (BENCHMARKS.md).
 */
import { fileURLToPath } from "node:url";
import { Child, stopAll } from "./child-process.ts";
import { W1_TASKS, W2_CALLS, W4_BIG_BYTES, type RunContext } from "./config.ts";

const PEER = fileURLToPath(new URL("./ws-floor-peer.mjs", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The client's whole measurement (warm-up included) takes ~1 s; this bounds a hang. */
const FLOOR_TIMEOUT_MS = 120_000;

interface FloorResult {
  rtt_us: number;
  pipelined_msgs_per_s: number;
  big_gb_per_s: number;
}

/** One measurement of the three ws floors; a failure goes to `ctx.failures`. */
export async function runFloors(ctx: RunContext): Promise<void> {
  let server: Child | undefined;
  let client: Child | undefined;
  try {
    server = Child.spawn("floor-server", process.execPath, [PEER, "server", String(W4_BIG_BYTES)], { cwd: REPO_ROOT });
    const url = await server.line("FLOOR_READY");
    // Same sizes as the weft workloads they are the yardsticks of: W2's calls, W1's tasks, W4's array.
    client = Child.spawn("floor-client", process.execPath, [PEER, "client", url, String(W2_CALLS), String(W1_TASKS), String(W4_BIG_BYTES)], { cwd: REPO_ROOT });
    const result = JSON.parse(await client.line("FLOOR_RESULT", FLOOR_TIMEOUT_MS)) as FloorResult;
    ctx.log.add("floor.ws_rtt_us", result.rtt_us);
    ctx.log.add("floor.ws_pipelined_msgs_per_s", result.pipelined_msgs_per_s);
    ctx.log.add("floor.ws_100mb_gb_per_s", result.big_gb_per_s);
  } catch (error) {
    ctx.failures.push(`floor: ${(error as Error).message}`);
  } finally {
    await stopAll([client, server]);
  }
}
