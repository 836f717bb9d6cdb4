/**
 * @weft/cli: the `weft` command. Use it from a shell; the exports let a script run it in process.
 *
 * ```ts
 * import { createProgram } from '@weft/cli';
 * await createProgram().parseAsync(['node', 'weft', 'status', '--json']);
 * ```
 */
export { createProgram } from './program.ts';
export { main } from './main.ts';
export { CliError } from './errors.ts';
