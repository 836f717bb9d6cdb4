/**
 * `weft logs [--job J] [--task T] [--follow]`: what tasks and actors wrote, as the nodes keep it
 * (the last lines of each task), read from the head's state API and printed with the prefix a
 * driver shows, `(square pid=… node=… ip=…) hello`, stderr lines on stderr. `--follow` asks again
 * every FOLLOW_INTERVAL_MS and prints the lines it has not printed (each node numbers its lines).
 */
import { droppedLine, outputPrefix, type LogLine, type OutputOrigin } from '@weft/protocol';
import { getJson, resolveHead, type HeadOptions } from './head-client.ts';

/** Options of `weft logs`. */
export interface LogsOptions extends HeadOptions {
  /** Only this job's lines. @default every job's */
  job?: string;
  /** Only this task's (or actor call's, or actor's) lines. @default every task's */
  task?: string;
  /** Keep printing new lines until interrupted. @default false */
  follow?: boolean;
}

/** Between two questions of `--follow`. */
export const FOLLOW_INTERVAL_MS = 1_000;

/** The path of the state API that answers `options`. */
export function logsPath(options: Pick<LogsOptions, 'job' | 'task'>): string {
  const query = options.job !== undefined ? `?job=${encodeURIComponent(options.job)}` : '';
  return options.task !== undefined ? `/api/tasks/${encodeURIComponent(options.task)}/logs${query}` : `/api/logs${query}`;
}

/** A kept line as `weft logs` prints it (after a line for the lines dropped before it, if any). */
export function formatLogLine(line: LogLine & OutputOrigin): string {
  const prefix = outputPrefix(line.name, line);
  const dropped = line.dropped ? `${droppedLine(prefix, line.dropped)}\n` : '';
  // A line-less record stands for dropped lines alone.
  return line.text === '' && line.dropped ? dropped : `${dropped}${prefix} ${line.text}\n`;
}

/** Runs `weft logs`. */
export async function logs(options: LogsOptions): Promise<void> {
  const target = resolveHead(options);
  const path = logsPath(options);
  /** The last line printed of each node. */
  const printed = new Map<string, number>();
  for (;;) {
    const lines = await getJson(target, path) as Array<LogLine & OutputOrigin>;
    let stdout = '';
    let stderr = '';
    for (const line of lines) {
      if (line.seq <= (printed.get(line.nodeId) ?? 0)) continue;
      printed.set(line.nodeId, line.seq);
      if (line.stream === 'stderr') stderr += formatLogLine(line);
      else stdout += formatLogLine(line);
    }
    if (stdout !== '') process.stdout.write(stdout);
    if (stderr !== '') process.stderr.write(stderr);
    if (!options.follow) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
  }
}
