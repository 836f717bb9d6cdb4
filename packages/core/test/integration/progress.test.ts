/**
 * `progress: true` as a user sees it, in a real driver process on the embedded cluster: a bar
 * (cli-progress) when stderr is a terminal (a pseudo-terminal made by util-linux `script`), and
 * plain lines every few seconds when it is not (a pipe, as in CI logs).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const driver = (items: number, ms: number): string[] => ['--import', 'tsx', 'progress-driver.ts', String(items), String(ms)];
const sum = (items: number): number => (items * (items - 1)) / 2;

describe('progress: true', () => {
  it('prints a line every 5 s and one at the end when stderr is not a terminal', async () => {
    // 300 items of 50 ms on 2 CPUs: about 7.5 s, so at least one line before the last.
    const { stdout, stderr } = await run(process.execPath, driver(300, 50), { cwd: FIXTURES, timeout: 60_000 });
    expect(stdout).toContain(`sum ${sum(300)}`);
    const lines = stderr.split('\n').filter((line) => line.startsWith('nap: '));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toMatch(/^nap: 300\/300 items, [\d.]+ items\/s, ETA 0 s$/);
    expect(lines[0]).toMatch(/^nap: \d+\/300 items, [\d.]+ items\/s, ETA \d+ s$/);
    // No terminal control codes in a log.
    expect(stderr).not.toContain('\u001b[');
  }, 90_000);

  it.skipIf(!existsSync('/usr/bin/script'))('draws a bar with done/total, rate and ETA in a terminal', async () => {
    const command = [process.execPath, ...driver(200, 5)].map((arg) => `'${arg}'`).join(' ');
    const { stdout } = await run('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: FIXTURES, timeout: 60_000 });
    expect(stdout).toContain(`sum ${sum(200)}`);
    // The bar as cli-progress redraws it: a filled bar at the end, the counts, a rate and an ETA.
    expect(stdout).toMatch(/nap \[█+\] 200\/200 \| [\d.]+ items\/s \| ETA 0s/);
  }, 90_000);
});
