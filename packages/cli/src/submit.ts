/**
 * `weft submit -- <command>`: runs a driver program against a cluster. The command gets
 * WEFT_ADDRESS, WEFT_TOKEN and WEFT_WORKING_DIR, so that `init()` with no address joins the
 * cluster and ships that directory; weft exits with the command's exit code.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './errors.ts';
import { resolveHead, type HeadOptions } from './head-client.ts';

/** Options of `weft submit`. */
export interface SubmitOptions extends HeadOptions {
  /** Directory the command runs in, and whose code goes to the cluster. @default '.' */
  workingDir: string;
}

/** Runs `weft submit`; resolves with the exit code to exit with. */
export async function submit(command: string[], options: SubmitOptions): Promise<number> {
  const [program, ...args] = command;
  if (program === undefined) throw new CliError('weft submit needs a command: weft submit -- tsx main.ts');
  const target = resolveHead(options);
  const workingDir = path.resolve(options.workingDir);
  if (!statSync(workingDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CliError(`--working-dir ${options.workingDir} is not a directory`);
  }
  const child = spawn(program, args, {
    cwd: workingDir,
    stdio: 'inherit',
    env: {
      ...process.env, WEFT_ADDRESS: target.ws, WEFT_TOKEN: target.token, WEFT_WORKING_DIR: workingDir,
      // A head serving wss with a private CA: the driver's connection trusts it too.
      ...(options.tlsCa !== undefined ? { NODE_EXTRA_CA_CERTS: path.resolve(options.tlsCa) } : {}),
    },
  });
  // The terminal sends Ctrl-C to the whole foreground group, the driver included; a SIGTERM sent
  // to weft alone is passed on. Either way weft waits for the driver's own exit.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new CliError(error.code === 'ENOENT'
        ? `cannot run ${program}: command not found (is it installed, or on PATH?)`
        : `cannot run ${program}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      // A driver killed by a signal exits like a shell reports it: 128 + the signal's number.
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
    });
  });
}
