/**
 * The jobs of the cluster (one per driver): running ones, and the last MAX_FINISHED_JOBS finished
 * ones, for `weft status` and the state API; older finished jobs are forgotten. Also each running
 * job's packed working directory, which nodes fetch to run its tasks: it goes when the job ends.
 */

/** Finished jobs remembered before the oldest are forgotten. */
export const MAX_FINISHED_JOBS = 100;

/** A job as the head shows it. */
export interface JobRecord {
  jobId: string;
  state: 'started' | 'finished';
  /** The node its driver is attached to. */
  nodeId: string;
  /** When it reached its state (ms since epoch). */
  since: number;
}

export class JobRegistry {
  readonly #jobs = new Map<string, JobRecord>();
  readonly #finished = new Set<string>();
  /** The packed working directory of each job whose driver uploaded one, until the job finishes. */
  readonly #packages = new Map<string, Uint8Array>();

  /** A driver's job started or finished on `nodeId`. */
  event(jobId: string, state: JobRecord['state'], nodeId: string): void {
    this.#jobs.set(jobId, { jobId, state, nodeId, since: Date.now() });
    if (state === 'started') {
      this.#finished.delete(jobId);
      return;
    }
    this.#finished.delete(jobId);
    this.#finished.add(jobId);
    this.#packages.delete(jobId);
    for (const oldest of this.#finished) {
      if (this.#finished.size <= MAX_FINISHED_JOBS) break;
      this.#finished.delete(oldest);
      this.#jobs.delete(oldest);
    }
  }

  /** The driver of `jobId` uploaded its working directory (a later upload replaces it). */
  putPackage(jobId: string, data: Uint8Array): void {
    this.#packages.set(jobId, data);
  }

  /** The working directory `jobId`'s driver uploaded, while the job runs. */
  packageOf(jobId: string): Uint8Array | undefined {
    return this.#packages.get(jobId);
  }

  /** A running or recently finished job. */
  get(jobId: string): JobRecord | undefined {
    return this.#jobs.get(jobId);
  }

  /** Running jobs and the last finished ones. */
  all(): JobRecord[] {
    return [...this.#jobs.values()];
  }
}
