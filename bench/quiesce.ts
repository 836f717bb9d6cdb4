/**
 * Between workloads: the driver's garbage is collected, and the refs it dropped reach the node as
 * releases, before the next workload's clock starts. Otherwise a workload pays for the one before
 * it: the ~20,000 refs of a W1 burst, finalized during W4, cost its window ~50 ms of the node's
 * thread (holders removed, entries freed), a third of it. piscina and the floors hold no refs;
 * Ray's driver (Python) frees a ref as the last name of it goes, so it pays as it goes, not later.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | undefined;

function collector(): () => void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === "function") {
      collect = exposed as () => void;
    } else {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    }
  }
  return collect;
}

/** Two full collections, each followed by a pause for the finalizers and the releases they send. */
export async function quiesce(): Promise<void> {
  for (let round = 0; round < 2; round++) {
    collector()();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
