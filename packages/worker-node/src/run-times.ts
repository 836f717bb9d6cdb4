/**
 * How long each function usually runs (by module and key), from the workers' reports: the local
 * scheduler sends tiny tasks ahead to busy workers and spills only tasks worth a network trip.
 */
import type { TaskSpec } from '@weft/protocol';

/** Only functions whose mean run time is below this are "tiny". */
const TINY_MAX_RUN_MS = 1;
/** Runs of a function observed before it can be judged tiny. */
const TINY_MIN_SAMPLES = 4;

/** Mean run time of each function (by module and key), from the workers' reports. */
export class RunTimes {
  readonly #stats = new Map<string, { count: number; meanMs: number }>();
  record(spec: TaskSpec, ms: number): void {
    const key = `${spec.fn.module}#${spec.fn.name}`;
    const stat = this.#stats.get(key);
    if (!stat) this.#stats.set(key, { count: 1, meanMs: ms });
    else {
      stat.count += 1;
      // An exponential mean follows a function whose cost changes with its input.
      stat.meanMs += (ms - stat.meanMs) * 0.1;
    }
  }
  /** Whether the function usually runs in under `ms` (unknown functions are not). */
  isUnder(spec: TaskSpec, ms: number): boolean {
    const stat = this.#stats.get(`${spec.fn.module}#${spec.fn.name}`);
    return stat !== undefined && stat.meanMs < ms;
  }
  isTiny(spec: TaskSpec): boolean {
    const stat = this.#stats.get(`${spec.fn.module}#${spec.fn.name}`);
    return stat !== undefined && stat.count >= TINY_MIN_SAMPLES && stat.meanMs < TINY_MAX_RUN_MS;
  }
}
