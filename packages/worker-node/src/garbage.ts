/**
 * A full garbage collection of this worker's heap, soon: asked for when an actor is dropped from a
 * shared actor worker. The ObjectRefs only that actor held are released to the node when this
 * worker's collector finalizes them (ref-tracker.ts), and a worker whose other actors are idle
 * allocates nothing, so its collector might not run for a long time, or ever: the objects those
 * refs name would stay held on every node (Ray frees them when the actor's process exits). One
 * collection, debounced, after the dropped actor's last turn; a few milliseconds on a small heap.
 *
 * `gc` is the one node gives with --expose-gc; without it, the V8 flag is set and a fresh context
 * hands out its `gc` function (the flag is process-wide: contexts made later get `gc` as well).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** After the dropped actor's calls in their last turns have ended. */
const DELAY_MS = 50;

let collect: (() => void) | undefined;
let timer: NodeJS.Timeout | undefined;

/** One full collection within DELAY_MS (however many times it is asked for until then). */
export function collectGarbageSoon(): void {
  if (timer !== undefined) return;
  timer = setTimeout(() => {
    timer = undefined;
    collectGarbage();
  }, DELAY_MS);
  timer.unref();
}

/** One full collection of this thread's heap, now. */
export function collectGarbage(): void {
  collector()();
}

function collector(): () => void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: unknown }).gc;
    if (typeof exposed === 'function') {
      collect = exposed as () => void;
    } else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  return collect;
}
