/** Marker files: fixtures write one as they start, so a test knows a task is running without sleeping. */
import { existsSync } from 'node:fs';
import { vi } from 'vitest';

/** Resolve once the task that writes `file` has started running in a worker (polls, never sleeps a fixed time). */
export async function started(file: string): Promise<void> {
  await vi.waitFor(() => {
    if (!existsSync(file)) throw new Error(`the task that writes ${file} has not started`);
  }, { timeout: 10_000, interval: 5 });
}
