/**
 * log_to_driver as a user sees it: a real driver process on the embedded cluster whose tasks and
 * actor print (printing-driver.ts); its own stdout and stderr show their lines, prefixed with
 * where they ran, in the order each task wrote them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const PREFIX = /^\((\S+) pid=(\d+) node=(node-[\w-]+) ip=([\d.]+)\) (.*)$/;

/** Run the driver to its end; it is killed by pid if it is still running when the test ends. */
async function runDriver(mode: string): Promise<{ stdout: string[]; stderr: string[]; code: number | null; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'printing-driver.ts', mode], { cwd: FIXTURES, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
    return { stdout: lines(stdout), stderr: lines(stderr), code, pid: child.pid as number };
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
  }
}

/** The task lines of `name`, without their prefix. */
const of = (lines: string[], name: string): string[] => lines.map((line) => PREFIX.exec(line)).filter((m) => m?.[1] === name).map((m) => m![5]!);

describe('task output at the driver (embedded)', () => {
  it('prints what tasks and an actor wrote, prefixed with name, pid, node and ip, in order, stderr on stderr', async () => {
    const { stdout, stderr, code, pid } = await runDriver('all');
    expect(code).toBe(0);
    expect(stdout).toContain('driver: squares 9 16');
    // Each task's lines in the order it wrote them, before the driver's get returned.
    const squares = of(stdout, 'square');
    expect(squares.filter((line) => line.endsWith('3') || line.endsWith('9'))).toEqual(['square of 3', 'is 9']);
    expect(squares.filter((line) => line.endsWith('4') || line.endsWith('16'))).toEqual(['square of 4', 'is 16']);
    expect(stdout.indexOf('driver: squares 9 16')).toBeGreaterThan(stdout.findLastIndex((line) => line.includes('(square ')));
    // Pieces of a line joined; the unfinished last line of a task that returned still arrives.
    expect(of(stdout, 'partial')).toEqual(['one line', 'and the last']);
    expect(of(stderr, 'warns')).toEqual(['to stderr', 'after an await']);
    expect(of(stdout, 'warns')).toEqual([]);
    expect(of(stdout, 'Greeter')).toEqual(['constructed']);
    expect(of(stdout, 'Greeter.greet')).toEqual(['hello, ada']);
    // Embedded: the workers are threads of the driver's own process.
    const match = PREFIX.exec(stdout.find((line) => line.startsWith('(square ')) ?? '');
    expect(Number(match?.[2])).toBe(pid);
    expect(match?.[4]).toBe('127.0.0.1');
  }, 60_000);

  it('prints none of it with logToDriver: false', async () => {
    const { stdout, stderr, code } = await runDriver('quiet');
    expect(code).toBe(0);
    expect(stdout).toEqual(['driver: squares 9 16', 'driver: greeted ada']);
    expect(stderr.filter((line) => PREFIX.test(line))).toEqual([]);
  }, 60_000);

  it('drops the lines of a task printing in a loop beyond the bound, and says how many', async () => {
    const { stdout, code } = await runDriver('flood');
    expect(code).toBe(0);
    const lines = of(stdout, 'flood');
    const marker = lines.find((line) => line.startsWith('… '));
    const dropped = Number(/^… (\d+) lines dropped$/.exec(marker ?? '')?.[1]);
    const kept = lines.filter((line) => line.startsWith('flood '));
    expect(kept.length + dropped).toBe(100_000);
    expect(kept.length).toBeLessThanOrEqual(10_000);
    expect(kept.slice(0, 3)).toEqual(['flood 0', 'flood 1', 'flood 2']);
    expect(stdout).toContain('driver: flood 100000');
  }, 60_000);
});
