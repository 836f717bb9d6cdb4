/**
 * `weft start`: a head (with a node beside it) or a node joining a head, in the background by
 * default, or in the foreground with `--block`.
 */
import { CliError } from './errors.ts';
import { startHead } from './start-head.ts';
import { startNode } from './start-node.ts';
import type { StartOptions } from './start-options.ts';

/** Runs `weft start`. */
export async function start(options: StartOptions): Promise<void> {
  if (options.head === true && options.address !== undefined) {
    throw new CliError('give either --head (start a head) or --address (join one), not both');
  }
  if (options.head === true) return startHead(options);
  if (options.address !== undefined) return startNode(options);
  throw new CliError('weft start needs --head (start a head here) or --address ws://HOST:7350 (join one): see weft start --help');
}
