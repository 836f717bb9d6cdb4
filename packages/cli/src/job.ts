/**
 * `weft job submit|list|status|logs|stop`: jobs that run on the head's machine, not in this
 * terminal (Ray's job submission). `submit` packs the working directory (as a driver packs its
 * own), uploads it to the head, which runs the command there; this process only follows the
 * job's log, so the job goes on when it is interrupted or killed.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { moduleTypeFile, packDirectory } from '@weft/protocol';
import { FINAL_STATES, type JobSubmission } from '@weft/scheduler';
import { CliError, messageOf } from './errors.ts';
import { jsonOf, requestHead, resolveHead, type HeadOptions, type HeadResponse, type HeadTarget } from './head-client.ts';
import { table, text, type Column } from './table.ts';

/** A submission as the head describes it. */
type Submission = JobSubmission;
const FINAL: ReadonlySet<string> = FINAL_STATES;
/** How often a follower asks for more log. */
const FOLLOW_INTERVAL_MS = 250;

/** Options of `weft job submit`. */
export interface JobSubmitOptions extends HeadOptions {
  /** Directory packed and run in on the head. @default '.' */
  workingDir: string;
  /** The submission's id. @default a random `submit-…` */
  jobId?: string;
  /** false with --no-wait: print the id and return. @default true */
  wait: boolean;
}

/** Options of `weft job list` and `status`. */
export interface JobInspectOptions extends HeadOptions {
  json?: boolean;
}

/** Options of `weft job logs`. */
export interface JobLogsOptions extends HeadOptions {
  follow?: boolean;
}

const when = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));

const COLUMNS: Array<Column<Submission>> = [
  { header: 'SUBMISSION', cell: (job) => job.submissionId },
  { header: 'STATE', cell: (job) => job.state },
  { header: 'STARTED', cell: (job) => when(job.startedAt) },
  { header: 'ENDED', cell: (job) => when(job.endedAt) },
  { header: 'EXIT', cell: (job) => (job.exitCode !== undefined ? String(job.exitCode) : text(job.signal)) },
  { header: 'ENTRYPOINT', cell: (job) => job.entrypoint.join(' ') },
];

/** The head's answer, or a CliError with its own words (they say what to do) for a refusal. */
function answer(target: HeadTarget, pathname: string, response: HeadResponse): unknown {
  if (response.status >= 400 && response.status < 500 && response.status !== 405) {
    const said = response.body.toString('utf8').trim();
    // A head from before job submissions knows no such path.
    if (said.startsWith('no such path')) throw new CliError(`the head at ${target.ws} runs no job submissions: upgrade it (weft stop, then weft start --head)`);
    throw new CliError(said);
  }
  return jsonOf(target, pathname, response);
}

async function fetchJob(target: HeadTarget, id: string): Promise<Submission> {
  const pathname = `/api/submissions/${encodeURIComponent(id)}`;
  return answer(target, pathname, await requestHead(target, 'GET', pathname)) as Submission;
}

/** The exit status a job's end maps to, as a shell reports it (128 + signal for a signal). */
export function exitStatusOf(job: Pick<Submission, 'state' | 'exitCode' | 'signal'>): number {
  if (job.state === 'SUCCEEDED') return 0;
  if (job.exitCode !== undefined && job.exitCode !== 0) return job.exitCode;
  const signal = job.signal === undefined ? undefined : os.constants.signals[job.signal as NodeJS.Signals];
  return signal !== undefined ? 128 + signal : 1;
}

/** One line about how a job ended. */
function ending(job: Submission): string {
  return `job ${job.submissionId} ${job.state}${job.message !== undefined ? `: ${job.message}` : ''}`;
}

/** Runs `weft job submit`; resolves with the exit code to exit with. */
export async function jobSubmit(command: string[], options: JobSubmitOptions): Promise<number> {
  if (command.length === 0) throw new CliError('weft job submit needs a command after --: weft job submit --working-dir . -- tsx main.ts');
  const target = resolveHead(options);
  const workingDir = path.resolve(options.workingDir);
  if (!statSync(workingDir, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`--working-dir ${options.workingDir} is not a directory`);
  let packed: Awaited<ReturnType<typeof packDirectory>>;
  try {
    packed = await packDirectory(workingDir, { extraFiles: moduleTypeFile(workingDir) });
  } catch (error) {
    throw new CliError(`cannot pack --working-dir ${workingDir}: ${messageOf(error)}`);
  }
  const query = new URLSearchParams(command.map((arg): [string, string] => ['arg', arg]));
  if (options.jobId !== undefined) query.set('id', options.jobId);
  const pathname = `/api/submissions?${query.toString()}`;
  const job = answer(target, pathname, await requestHead(target, 'POST', pathname, packed.data)) as Submission;
  if (job.state === 'FAILED') throw new CliError(`job ${job.submissionId} did not start: ${job.message ?? 'no reason given'}`);
  if (!options.wait) {
    console.log(job.submissionId);
    console.error(`weft: submitted job ${job.submissionId} (${packed.files} files): weft job status ${job.submissionId}, weft job logs ${job.submissionId} --follow`);
    return 0;
  }
  console.error(`weft: submitted job ${job.submissionId} (${packed.files} files); following its log (Ctrl-C stops following, not the job)`);
  process.once('SIGINT', () => {
    console.error(`\nweft: stopped following; job ${job.submissionId} keeps running (weft job logs ${job.submissionId} --follow, weft job stop ${job.submissionId})`);
    process.exit(130);
  });
  const ended = await followLog(target, job.submissionId, 0, true);
  console.error(`weft: ${ending(ended)}`);
  return exitStatusOf(ended);
}

/**
 * Writes the job's log from `offset` to stdout; with `follow`, until the job has ended and its
 * log has been read to the end. Resolves with the job's record at the end.
 */
async function followLog(target: HeadTarget, id: string, offset: number, follow: boolean): Promise<Submission> {
  let at = offset;
  for (;;) {
    const pathname = `/api/submissions/${encodeURIComponent(id)}/logs?offset=${at}`;
    const response = await requestHead(target, 'GET', pathname);
    if (response.status !== 200) answer(target, pathname, response); // throws the head's words
    if (response.body.length > 0) process.stdout.write(response.body);
    at = Number(response.headers['x-weft-next-offset'] ?? at + response.body.length);
    // The head reads the state after the log: final and nothing more means the log is complete.
    const final = FINAL.has(String(response.headers['x-weft-state']));
    if (response.body.length === 0 && (final || !follow)) return fetchJob(target, id);
    if (response.body.length === 0) await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
  }
}

/** Runs `weft job list`. */
export async function jobList(options: JobInspectOptions): Promise<void> {
  const target = resolveHead(options);
  const jobs = answer(target, '/api/submissions', await requestHead(target, 'GET', '/api/submissions')) as Submission[];
  if (options.json === true) console.log(JSON.stringify(jobs, null, 2));
  else console.log(jobs.length === 0 ? 'no job submissions (weft job submit -- tsx main.ts runs one)' : table(COLUMNS, jobs));
}

/** Runs `weft job status ID`. */
export async function jobStatus(id: string, options: JobInspectOptions): Promise<void> {
  const job = await fetchJob(resolveHead(options), id);
  if (options.json === true) {
    console.log(JSON.stringify(job, null, 2));
    return;
  }
  console.log([
    `job ${job.submissionId}: ${job.state}${job.message !== undefined ? ` (${job.message})` : ''}`,
    `  entrypoint  ${job.entrypoint.join(' ')}`,
    `  submitted   ${when(job.submittedAt)}`,
    `  started     ${when(job.startedAt)}${job.pid !== undefined ? ` (pid ${job.pid} on the head)` : ''}`,
    `  ended       ${when(job.endedAt)}`,
    `  exit        ${job.exitCode !== undefined ? String(job.exitCode) : text(job.signal)}`,
  ].join('\n'));
}

/** Runs `weft job logs ID [--follow]`; with --follow, exits with the job's status. */
export async function jobLogs(id: string, options: JobLogsOptions): Promise<number> {
  const job = await followLog(resolveHead(options), id, 0, options.follow === true);
  return options.follow === true ? exitStatusOf(job) : 0;
}

/** Runs `weft job stop ID`: SIGTERM to the job, SIGKILL after the head's grace period. */
export async function jobStop(id: string, options: HeadOptions): Promise<void> {
  const target = resolveHead(options);
  const before = await fetchJob(target, id);
  if (FINAL.has(before.state)) {
    console.log(`job ${id} has already ended: ${before.state}`);
    return;
  }
  const pathname = `/api/submissions/${encodeURIComponent(id)}/stop`;
  const job = answer(target, pathname, await requestHead(target, 'POST', pathname)) as Submission;
  console.log(ending(job));
}
