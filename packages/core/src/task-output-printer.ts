/**
 * The driver's side of log_to_driver: the lines its job's tasks and actors wrote, printed with
 * where they ran, `(square pid=1234 node=node-abc ip=10.0.0.2) hello`, stdout lines to the
 * driver's stdout and stderr lines to its stderr.
 */
import { droppedLine, outputPrefix, type OutputChunk, type OutputOrigin } from '@weft/protocol';

/** The text a driver prints for a batch of chunks, by stream. */
export function formatTaskOutput(origin: OutputOrigin, chunks: OutputChunk[]): { stdout: string; stderr: string } {
  const text = { stdout: '', stderr: '' };
  for (const chunk of chunks) {
    const prefix = outputPrefix(chunk.name, origin);
    let out = chunk.dropped ? `${droppedLine(prefix, chunk.dropped)}\n` : '';
    for (const line of chunk.lines) out += `${prefix} ${line}\n`;
    text[chunk.stream] += out;
  }
  return text;
}

/** Print a batch of task output at the driver. */
export function printTaskOutput(origin: OutputOrigin, chunks: OutputChunk[]): void {
  const { stdout, stderr } = formatTaskOutput(origin, chunks);
  if (stdout !== '') process.stdout.write(stdout);
  if (stderr !== '') process.stderr.write(stderr);
}
