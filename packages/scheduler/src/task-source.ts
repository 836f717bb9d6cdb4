/**
 * Where the dashboard's live feed gets tasks from: the head's task table (the live DAG the
 * nodes' task events feed), whose batches of changes the feed pushes to the pages as they come.
 */
import type { TaskEvent } from '@weft/protocol';
import type { TaskTable } from './task-table.ts';

/** Tasks now, and batches of tasks that changed after. */
export interface TaskSource {
  /** Every task known now. */
  snapshot(): TaskEvent[];
  /** Calls `listener` with each batch of tasks that changed (new state, times, worker); returns the unsubscribe function. */
  subscribe(listener: (changed: TaskEvent[]) => void): () => void;
}

/** The task table as a TaskSource. Tasks the table forgets stay on the pages (history is not deleted there either). */
export function tableTaskSource(table: TaskTable): TaskSource {
  return {
    snapshot: () => table.list(),
    subscribe: (listener) => table.subscribe((changes) => {
      if (changes.tasks.length > 0) listener(changes.tasks);
    }),
  };
}
