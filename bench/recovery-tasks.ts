/**
 * The remote functions of `pnpm bench --recovery`, in a module of their own because workers find
 * a remote function by module and name and import this file; so it imports nothing but the
 * public API and runs no driver code.
 */
import { getRuntimeContext, remote } from "@weft/core";

/** Where and when (wall clock, ms since the epoch: every process runs on this machine) a task started. */
export interface Started {
  nodeId: string;
  startedAt: number;
}

/**
 * Holds its CPU (asleep, so that the machine's cores stay free for the runtime) for `longMs` on
 * node `slowOn`, where it is to be caught running or queued when that node is killed, and for
 * `shortMs` anywhere else, where it runs again after the kill.
 */
export const hold = remote(async function hold(slowOn: string, longMs: number, shortMs: number): Promise<Started> {
  const started: Started = { nodeId: getRuntimeContext().nodeId, startedAt: Date.now() };
  await new Promise((resolve) => setTimeout(resolve, started.nodeId === slowOn ? longMs : shortMs));
  return started;
});

/** Makes an array of `n` ones where the task runs: large enough to stay on that node's store. */
export const ones = remote(function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
});
