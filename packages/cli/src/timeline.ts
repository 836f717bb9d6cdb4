/**
 * `weft timeline`: the head's recent tasks as a Chrome trace file, for chrome://tracing or
 * Perfetto (ui.perfetto.dev).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { getJson, resolveHead, type HeadOptions } from './head-client.ts';

/** Options of `weft timeline`. */
export interface TimelineOptions extends HeadOptions {
  /** File to write. @default 'timeline.json' */
  output: string;
}

/** Runs `weft timeline`. */
export async function timeline(options: TimelineOptions): Promise<void> {
  const trace = await getJson(resolveHead(options), '/api/timeline') as { traceEvents?: unknown[] };
  const file = path.resolve(options.output);
  writeFileSync(file, JSON.stringify(trace));
  const count = trace.traceEvents?.length ?? 0;
  console.log(`wrote ${count} task${count === 1 ? '' : 's'} to ${file}: open it in chrome://tracing or https://ui.perfetto.dev`);
}
