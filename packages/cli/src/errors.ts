/**
 * What the CLI reports to a user: a message saying what happened and what to do, and an exit
 * code. Anything else thrown is a bug and is printed with its stack.
 */

/** A failure the user can act on; `main` prints `weft: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  /** Process exit code. @default 1 */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
