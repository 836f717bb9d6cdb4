/**
 * The parallel maps of the cluster as their drivers and tasks report them (what `/api/maps` and
 * the dashboard show): each map's latest status, the running ones and the last MAX_ENDED_MAPS
 * that ended. A map whose reports stopped without an end (its driver died) counts as ended once
 * its job has finished.
 */
import type { MapStatus } from '@weft/protocol';

/** Ended maps remembered before the oldest are forgotten. */
export const MAX_ENDED_MAPS = 100;
/** Running maps kept at most (a driver starting maps without end cannot grow the head). */
export const MAX_RUNNING_MAPS = 10_000;

export class MapTable {
  readonly #running = new Map<string, MapStatus>();
  /** Ended maps, oldest first. */
  readonly #ended = new Map<string, MapStatus>();

  /** A report: the map's status now. A report older than what is kept, or of a map that ended, is ignored. */
  update(status: MapStatus): void {
    if (this.#ended.has(status.mapId)) return;
    const known = this.#running.get(status.mapId);
    if (known && known.updatedAt > status.updatedAt) return;
    if (status.state === 'running') {
      if (!known && this.#running.size >= MAX_RUNNING_MAPS) return;
      this.#running.set(status.mapId, status);
      return;
    }
    this.#running.delete(status.mapId);
    this.#end(status);
  }

  /** A job finished: its maps still running (no end was reported) end as cancelled. */
  jobFinished(jobId: string): void {
    for (const status of [...this.#running.values()]) {
      if (status.jobId !== jobId) continue;
      this.#running.delete(status.mapId);
      this.#end({ ...status, state: 'cancelled' });
    }
  }

  /** Running maps first (oldest first), then the ended ones, newest first; of one job if given. */
  list(jobId?: string): MapStatus[] {
    const all = [...this.#running.values(), ...[...this.#ended.values()].reverse()];
    return jobId === undefined ? all : all.filter((status) => status.jobId === jobId);
  }

  #end(status: MapStatus): void {
    this.#ended.set(status.mapId, status);
    if (this.#ended.size > MAX_ENDED_MAPS) this.#ended.delete(this.#ended.keys().next().value as string);
  }
}
