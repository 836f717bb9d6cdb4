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
  /** By module, then by function key (two lookups, no key string built per task). */
  readonly #stats = new Map<string, Map<string, { count: number; meanMs: number }>>();

  #stat(spec: TaskSpec): { count: number; meanMs: number } | undefined {
    return this.#stats.get(spec.fn.module)?.get(spec.fn.name);
  }

  record(spec: TaskSpec, ms: number): void {
    const stat = this.#stat(spec);
    if (!stat) {
      let byName = this.#stats.get(spec.fn.module);
      if (!byName) {
        byName = new Map();
        this.#stats.set(spec.fn.module, byName);
      }
      byName.set(spec.fn.name, { count: 1, meanMs: ms });
    } else {
      stat.count += 1;
      // An exponential mean follows a function whose cost changes with its input.
      stat.meanMs += (ms - stat.meanMs) * 0.1;
    }
  }
  /** Whether the function usually runs in under `ms` (unknown functions are not). */
  isUnder(spec: TaskSpec, ms: number): boolean {
    const stat = this.#stat(spec);
    return stat !== undefined && stat.meanMs < ms;
  }
  isTiny(spec: TaskSpec): boolean {
    const stat = this.#stat(spec);
    return stat !== undefined && stat.count >= TINY_MIN_SAMPLES && stat.meanMs < TINY_MAX_RUN_MS;
  }
}
