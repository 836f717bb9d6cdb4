/**
 * Where the dashboard's live feed gets tasks from. Today: the nodes' recent tasks, asked for on a
 * timer and diffed here (PolledList). When the head keeps a TaskTable (the live DAG fed by the
 * nodes' task events) it takes this place: it has the same two methods, so the swap is the one
 * line in `LiveFeed`'s constructor default.
 */
import type { TaskEvent } from '@weft/protocol';
import { PolledList } from './polled-list.ts';

/** Tasks now, and batches of tasks that changed after. */
export interface TaskSource {
  /** Every task known now. */
  snapshot(): TaskEvent[];
  /** Calls `listener` with each batch of tasks that changed (new state, times, worker); returns the unsubscribe function. */
  subscribe(listener: (changed: TaskEvent[]) => void): () => void;
}

/** How often the polled source asks the nodes. */
export const TASK_POLL_INTERVAL_MS = 500;

/** A TaskSource that asks `query` (the head's `queryNodes('tasks')`, merged) while someone listens. */
export function polledTaskSource(query: () => Promise<TaskEvent[]>, intervalMs = TASK_POLL_INTERVAL_MS): TaskSource {
  const list = new PolledList(query, (task) => task.taskId, intervalMs);
  return {
    snapshot: () => list.snapshot().map(([, task]) => task),
    // Tasks a node's ring forgot stay on the page: a task table does not delete history either.
    subscribe: (listener) => list.subscribe((change) => { if (change.changed.length > 0) listener(change.changed.map(([, task]) => task)); }),
  };
}
