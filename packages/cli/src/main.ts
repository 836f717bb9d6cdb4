/**
 * Entry point of the `weft` command (bin/weft.mjs loads it): parse, run, and print a user's
 * error as `weft: <what happened and what to do>` with exit code 1.
 */
import { CliError } from './errors.ts';
import { createProgram } from './program.ts';

/**
 * Runs the CLI with `argv` (as `process.argv`: node, script, arguments...). On an error it exits
 * at once: a half-started head or node may hold sockets or workers that would keep it alive.
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`weft: ${error.message}`);
      process.exit(error.exitCode);
    }
    console.error('weft: unexpected error (a bug: please report it with this output)');
    console.error(error);
    process.exit(1);
  }
}
