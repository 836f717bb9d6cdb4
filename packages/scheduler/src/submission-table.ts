/**
 * The records of job submissions (`weft job submit`, Ray's job submission): one per command the
 * head runs for a user, with its state, and a bounded history of finished ones. Pure: the job
 * runner feeds it events, and it decides each submission's next state.
 *
 * The life of a submission:
 *
 *   PENDING --started--> RUNNING --exited 0--> SUCCEEDED
 *      |                    |----exited ≠ 0 / signal--> FAILED
 *      |                    +----stop requested, then exited--> STOPPED
 *      +--failed (unpack, spawn)--> FAILED
 *      +--stop requested--> STOPPED (it never starts)
 *
 * SUCCEEDED, FAILED and STOPPED are final: a later event changes nothing.
 */

/** Finished submissions remembered before the oldest are forgotten. */
export const MAX_FINISHED_SUBMISSIONS = 100;

/** States of a submission, as Ray names them. */
export type SubmissionState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

/** The final states. */
export const FINAL_STATES: ReadonlySet<SubmissionState> = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

/** A submission as `weft job status` shows it. */
export interface JobSubmission {
  submissionId: string;
  state: SubmissionState;
  /** The command and its arguments. */
  entrypoint: string[];
  /** When the head accepted it (ms since epoch). */
  submittedAt: number;
  /** When its process started; absent: it has not (yet). */
  startedAt?: number;
  /** When it reached a final state; absent: not yet. */
  endedAt?: number;
  /** Its process (a process group of its own); absent: not started. */
  pid?: number;
  /** Its exit code; absent: still running, never started, or ended by a signal. */
  exitCode?: number;
  /** The signal that ended it; absent: it exited by itself, or has not ended. */
  signal?: string;
  /** Why it failed or stopped, for a user; absent: it succeeded or has not ended. */
  message?: string;
  /** Whether a stop was asked for; absent: no. */
  stopRequested?: boolean;
}

/** What can happen to a submission. */
export type SubmissionEvent =
  | { type: 'started'; pid: number; at: number }
  | { type: 'exited'; exitCode: number | null; signal: string | null; at: number }
  | { type: 'failed'; message: string; at: number }
  | { type: 'stop-requested'; at: number };

/** The submission after `event` (a new record; the same one when the event changes nothing). */
export function nextSubmission(job: JobSubmission, event: SubmissionEvent): JobSubmission {
  if (FINAL_STATES.has(job.state)) return job;
  switch (event.type) {
    case 'started':
      return job.state === 'PENDING' ? { ...job, state: 'RUNNING', startedAt: event.at, pid: event.pid } : job;
    case 'exited': {
      const ended = {
        ...job, endedAt: event.at,
        ...(event.exitCode !== null ? { exitCode: event.exitCode } : {}),
        ...(event.signal !== null ? { signal: event.signal } : {}),
      };
      if (job.stopRequested === true) return { ...ended, state: 'STOPPED', message: 'stopped by weft job stop' };
      if (event.exitCode === 0) return { ...ended, state: 'SUCCEEDED' };
      const how = event.signal !== null ? `was killed by ${event.signal}` : `exited with code ${String(event.exitCode)}`;
      return { ...ended, state: 'FAILED', message: `the command ${how}` };
    }
    case 'failed':
      return { ...job, state: 'FAILED', endedAt: event.at, message: event.message };
    case 'stop-requested':
      // A running process stops when it exits; one that has not started never will.
      return job.state === 'PENDING'
        ? { ...job, state: 'STOPPED', stopRequested: true, endedAt: event.at, message: 'stopped before it started' }
        : { ...job, stopRequested: true };
    default:
      return job;
  }
}

/** The submissions a head knows: all that have not finished, and the last finished ones. */
export class SubmissionTable {
  readonly #jobs = new Map<string, JobSubmission>();
  /** Finished ids, oldest first. */
  readonly #finished = new Set<string>();

  /** @param maxFinished finished submissions kept. @default MAX_FINISHED_SUBMISSIONS */
  constructor(private readonly maxFinished = MAX_FINISHED_SUBMISSIONS) {}

  /** Adds a PENDING submission; false when the id is taken. */
  add(submissionId: string, entrypoint: string[], at: number): boolean {
    if (this.#jobs.has(submissionId)) return false;
    this.#jobs.set(submissionId, { submissionId, state: 'PENDING', entrypoint, submittedAt: at });
    return true;
  }

  /**
   * Applies `event` to a submission. Returns the record after it and the ids forgotten to keep
   * the history bound (the caller removes their files), or undefined for an unknown id.
   */
  apply(submissionId: string, event: SubmissionEvent): { job: JobSubmission; forgotten: string[] } | undefined {
    const job = this.#jobs.get(submissionId);
    if (job === undefined) return undefined;
    const next = nextSubmission(job, event);
    this.#jobs.set(submissionId, next);
    const forgotten: string[] = [];
    if (!FINAL_STATES.has(job.state) && FINAL_STATES.has(next.state)) {
      this.#finished.add(submissionId);
      for (const oldest of this.#finished) {
        if (this.#finished.size <= this.maxFinished) break;
        this.#finished.delete(oldest);
        this.#jobs.delete(oldest);
        forgotten.push(oldest);
      }
    }
    return { job: next, forgotten };
  }

  get(submissionId: string): JobSubmission | undefined {
    return this.#jobs.get(submissionId);
  }

  /** Every submission, oldest first. */
  all(): JobSubmission[] {
    return [...this.#jobs.values()].sort((a, b) => a.submittedAt - b.submittedAt);
  }

  /** Submissions not finished (PENDING or RUNNING). */
  unfinished(): JobSubmission[] {
    return this.all().filter((job) => !FINAL_STATES.has(job.state));
  }
}
