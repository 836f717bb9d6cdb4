/**
 * A driver run as a user runs one: `node --import tsx <script>` in its own process, to its end,
 * with its stdout and stderr as lines. Killed by pid if the test ends first.
 */
import { spawn } from 'node:child_process';

/** A line a task or actor wrote, as its driver prints it: `(name pid=… node=… ip=…) text`. */
export const TASK_LINE = /^\((\S+) pid=(\d+) node=(node-[\w-]+) ip=([\d.]+)\) (.*)$/;

export interface DriverRun {
  stdout: string[];
  stderr: string[];
  code: number | null;
  pid: number;
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

export async function runDriverProcess(script: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<DriverRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    return { stdout: lines(stdout), stderr: lines(stderr), code, pid: child.pid as number };
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
  }
}
