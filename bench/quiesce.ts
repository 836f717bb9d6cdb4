/**
 * Before a workload that moves bytes (W4, W4x): the driver's garbage is collected, and the refs it
 * dropped reach the node as releases, before the clock starts. Otherwise it pays for the workload
 * before it: the ~20,000 refs of W1 and W3, finalized during W4's put, cost its window ~50 ms of
 * the node's thread (holders removed, entries freed) in cluster mode, a third of it (W4 put 0.50-
 * 0.58x of one ws message against 0.68x quiesced, alternated runs). Not before the tiny-task
 * workloads: a burst right after forced full collections ran ~20% slower (37-47k tasks/s against
 * 44-60k after 3,000 sequential calls, in one script), and they pay their own releases as any
 * program does. piscina and the floors hold no refs; Ray's driver (Python) frees a ref as the last
 * name of it goes.
 */
import { collectGarbage } from "@weft/worker-node";

/** The workloads quiesce() runs before. */
export const QUIESCED: ReadonlySet<string> = new Set(["W4", "W4x"]);

/** Two full collections, each followed by a pause for the finalizers and the releases they send. */
export async function quiesce(): Promise<void> {
  for (let round = 0; round < 2; round++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
