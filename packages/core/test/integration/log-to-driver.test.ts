/**
 * log_to_driver as a user sees it: a real driver process on the embedded cluster whose tasks and
 * actor print (printing-driver.ts); its own stdout and stderr show their lines, prefixed with
 * where they ran, in the order each task wrote them.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TASK_LINE as PREFIX, runDriverProcess, type DriverRun } from '../support/driver-process.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

const runDriver = (mode: string): Promise<DriverRun> => runDriverProcess('printing-driver.ts', [mode], { cwd: FIXTURES });

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
