/**
 * Runs job submissions on the head's machine (`weft job submit`, as Ray's job submission): each
 * uploaded working directory is unpacked into `<sessionDir>/submissions/<id>/`, and its command
 * runs there as a child of the head, in a process group of its own (so that a Ctrl-C meant for a
 * head in a terminal does not reach it, and a stop reaches what it started), with WEFT_ADDRESS and
 * WEFT_TOKEN naming this cluster. Its stdout and stderr go to `<sessionDir>/logs/job-<id>.log`;
 * its folder is removed when it ends, its log when the history bound forgets it.
 * A submission outlives the process that submitted it; it ends by itself, by `stop`, or when the
 * head stops (`stopAll`). The submission table owns the records; this component owns processes
 * and files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_PACKAGE_MAX_BYTES, isId, logger, randomId, unpackDirectory } from '@weft/protocol';
import { FINAL_STATES, SubmissionTable, type JobSubmission, type SubmissionEvent } from './submission-table.ts';

/** How long a submission may take to exit after SIGTERM before it gets SIGKILL. Short: the head's own stop waits for it. */
export const JOB_STOP_GRACE_MS = 3_000;
/** Largest decompressed package accepted (contents are limited to DEFAULT_PACKAGE_MAX_BYTES when packed; entry headers add a little). */
const UNPACK_MAX_BYTES = 2 * DEFAULT_PACKAGE_MAX_BYTES;
/** Most log bytes one read returns. */
export const MAX_LOG_READ_BYTES = 1024 * 1024;

/** Options of the {@link JobRunner}. */
export interface JobRunnerOptions {
  /** The head's session folder: submissions go to `submissions/`, their logs to `logs/`. */
  sessionDir: string;
  /** The cluster token, given to each command as WEFT_TOKEN. */
  token: string;
  /** A `node_modules` to link into each working directory, so that the driver resolves @weft/core (and tsx) from the head's installation; absent: none. */
  modulesDir?: string;
  /** More environment for each command (e.g. NODE_EXTRA_CA_CERTS); absent: the head's own. */
  env?: Record<string, string>;
  /** SIGTERM to SIGKILL. @default JOB_STOP_GRACE_MS */
  stopGraceMs?: number;
  /** Finished submissions kept. @default MAX_FINISHED_SUBMISSIONS */
  maxFinished?: number;
}

/** A submission refused before it ran: `status` is the HTTP status that says why. */
export class SubmissionError extends Error {
  constructor(message: string, readonly status: 400 | 404 | 409 | 503) {
    super(message);
    this.name = 'SubmissionError';
  }
}

export class JobRunner {
  readonly #table: SubmissionTable;
  readonly #children = new Map<string, ChildProcess>();
  /** Resolves when the submission's process has exited (or never started). */
  readonly #ended = new Map<string, Promise<void>>();
  readonly #log = logger('job-runner');
  #address: string | undefined;
  #stopping = false;

  constructor(private readonly options: JobRunnerOptions) {
    this.#table = new SubmissionTable(options.maxFinished);
  }

  /** The address commands join (WEFT_ADDRESS): known once the head listens. */
  setAddress(address: string): void {
    this.#address = address;
  }

  /** The folder a submission runs in. Throws for an id that is not of weft's form, before any path is made of it. */
  workingDirOf(submissionId: string): string {
    if (!isId(submissionId)) throw new SubmissionError(`submission id ${JSON.stringify(String(submissionId).slice(0, 80))} is not a weft id (1-64 characters of A-Z a-z 0-9 _ -)`, 400);
    return path.join(this.options.sessionDir, 'submissions', submissionId);
  }

  /** The log file of a submission. */
  logOf(submissionId: string): string {
    this.workingDirOf(submissionId); // checks the id
    return path.join(this.options.sessionDir, 'logs', `job-${submissionId}.log`);
  }

  /**
   * Unpacks `data` and starts `entrypoint` in it. Resolves once the command started or failed
   * to (then the record says why); rejects when the submission is refused (bad or taken id).
   */
  async submit(data: Uint8Array, entrypoint: string[], submissionId: string = randomId('submit')): Promise<JobSubmission> {
    const dir = this.workingDirOf(submissionId);
    const address = this.#address;
    if (this.#stopping || address === undefined) throw new SubmissionError('the head is starting or stopping: try again once it runs', 503);
    if (entrypoint.length === 0 || entrypoint[0] === '') throw new SubmissionError('no command to run: pass it after --, as in weft job submit -- tsx main.ts', 400);
    if (!this.#table.add(submissionId, entrypoint, Date.now())) {
      throw new SubmissionError(`a job submission ${submissionId} exists already: pick another --job-id (weft job list shows those in use)`, 409);
    }
    let done: () => void = () => undefined;
    this.#ended.set(submissionId, new Promise((resolve) => { done = resolve; }));
    try {
      await mkdir(path.dirname(dir), { recursive: true });
      await unpackDirectory(data, dir, { maxBytes: UNPACK_MAX_BYTES });
      if (this.options.modulesDir !== undefined) await symlink(this.options.modulesDir, path.join(dir, 'node_modules'), 'dir');
      await mkdir(path.dirname(this.logOf(submissionId)), { recursive: true });
    } catch (error) {
      this.#event(submissionId, { type: 'failed', message: `cannot unpack the working directory: ${(error as Error).message}`, at: Date.now() });
      done();
      return this.get(submissionId) as JobSubmission;
    }
    if (this.get(submissionId)?.state !== 'PENDING') { // stopped while unpacking: what the unpack wrote after the removal goes too
      await this.#removeDir(submissionId);
      done();
      return this.get(submissionId) as JobSubmission;
    }
    await this.#start(submissionId, dir, address, done);
    return this.get(submissionId) as JobSubmission;
  }

  /** Spawns the command; resolves once it started or failed to. */
  #start(submissionId: string, dir: string, address: string, done: () => void): Promise<void> {
    const [program, ...args] = this.get(submissionId)?.entrypoint ?? [];
    const log = openSync(this.logOf(submissionId), 'a', 0o600);
    const child = spawn(program as string, args, {
      cwd: dir, detached: true, stdio: ['ignore', log, log],
      env: {
        ...process.env, WEFT_ADDRESS: address, WEFT_TOKEN: this.options.token, WEFT_WORKING_DIR: dir, WEFT_SUBMISSION_ID: submissionId,
        // As `npm run` does: the commands of the linked installation (tsx) are found by name.
        PATH: [path.join(dir, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(path.delimiter),
        ...this.options.env,
      },
    });
    closeSync(log); // the child has its own copy
    this.#children.set(submissionId, child);
    return new Promise((resolve) => {
      child.once('spawn', () => {
        this.#event(submissionId, { type: 'started', pid: child.pid as number, at: Date.now() });
        this.#log.info({ submissionId, pid: child.pid }, 'job submission started');
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        // An error after the spawn (a failed kill) changes nothing: 'exit' still comes.
        if (child.pid !== undefined) return;
        this.#children.delete(submissionId);
        const why = error.code === 'ENOENT'
          ? `cannot run ${String(program)} on the head: command not found (install it there, or put it on the PATH of weft start --head)`
          : `cannot run ${String(program)} on the head: ${error.message}`;
        this.#event(submissionId, { type: 'failed', message: why, at: Date.now() });
        done();
        resolve();
      });
      child.once('exit', (exitCode, signal) => {
        this.#children.delete(submissionId);
        const job = this.#event(submissionId, { type: 'exited', exitCode, signal, at: Date.now() });
        this.#log.info({ submissionId, exitCode, signal, state: job?.state }, 'job submission ended');
        // What the command left in its group (a stop must leave nothing); ESRCH when nothing is left.
        if (job?.stopRequested === true) signalGroup(child.pid as number, 'SIGKILL');
        done();
      });
    });
  }

  #event(submissionId: string, event: SubmissionEvent): JobSubmission | undefined {
    const applied = this.#table.apply(submissionId, event);
    // A finished job's code is needed no more (up to 100 MiB each): its log stays while its record does.
    if (applied !== undefined && FINAL_STATES.has(applied.job.state)) void this.#removeDir(submissionId);
    for (const old of applied?.forgotten ?? []) {
      this.#ended.delete(old);
      void rm(this.logOf(old), { force: true }).catch(() => undefined);
    }
    return applied?.job;
  }

  async #removeDir(submissionId: string): Promise<void> {
    await rm(this.workingDirOf(submissionId), { recursive: true, force: true }).catch(() => undefined);
  }

  get(submissionId: string): JobSubmission | undefined {
    return this.#table.get(submissionId);
  }

  /** Every submission the head remembers, oldest first. */
  all(): JobSubmission[] {
    return this.#table.all();
  }

  /**
   * Stops a submission: SIGTERM to its process group, SIGKILL after the grace period. Resolves
   * with its record once it has exited; undefined for an unknown id.
   */
  async stop(submissionId: string): Promise<JobSubmission | undefined> {
    const job = this.#event(submissionId, { type: 'stop-requested', at: Date.now() });
    if (job === undefined) return undefined;
    const child = this.#children.get(submissionId);
    if (child?.pid !== undefined && job.state === 'RUNNING') {
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid as number, 'SIGKILL'), this.options.stopGraceMs ?? JOB_STOP_GRACE_MS);
      await this.#ended.get(submissionId);
      clearTimeout(timer);
    }
    return this.get(submissionId);
  }

  /** The head stops: no new submissions, and every running one is stopped. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#table.unfinished().map((job) => this.stop(job.submissionId)));
  }

  /** Up to MAX_LOG_READ_BYTES of a submission's log from byte `offset`; undefined for an unknown id. */
  async readLog(submissionId: string, offset: number): Promise<{ data: Buffer; next: number } | undefined> {
    if (this.get(submissionId) === undefined) return undefined;
    const file = await open(this.logOf(submissionId), 'r').catch(() => undefined);
    if (file === undefined) return { data: Buffer.alloc(0), next: offset }; // not started (yet), or it failed before
    try {
      const size = (await file.stat()).size;
      const buffer = Buffer.alloc(Math.max(0, Math.min(MAX_LOG_READ_BYTES, size - offset)));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      return { data: buffer.subarray(0, bytesRead), next: offset + bytesRead };
    } finally {
      await file.close();
    }
  }
}

/** Signals the process group led by `pid` (never a name); a group already gone is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group
  }
}
