/**
 * The examples of the README's table that issue 13 added or rewrote, run as a user runs them
 * (`tsx examples/<file>`, each on its own embedded cluster, smaller sizes where the example takes
 * them), so that they keep working and keep passing their own checks: each exits 0 only when
 * its result checked out. The processes end themselves; execFile's timeout kills one that hangs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
/** tsx's loader by path: an example run from another folder (backtest-cache's cache is in its cwd) still finds it. */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-examples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run an example from `cwd`; resolves with its output when it exits 0 (rejects otherwise). */
async function example(file: string, args: string[] = [], cwd = ROOT): Promise<{ stdout: string; stderr: string }> {
  return exec(process.execPath, ['--import', TSX, path.join(ROOT, 'examples', file), ...args], { cwd, timeout: 100_000 });
}

describe('the examples', () => {
  it('monte-carlo-options.ts: an imap with a bar, a streaming task, both identical to one thread', async () => {
    const { stdout, stderr } = await example('monte-carlo-options.ts', ['8', '200000']);
    expect(stdout).toContain('results identical     yes');
    expect(stdout).toContain('streamed identical    yes');
    expect(stdout.match(/^after +[\d,]+ paths/gm)).toHaveLength(6);
    expect(stderr).toContain('priceBatch: 8/8 items');
  }, 120_000);

  it('parallel-downloads.ts: every page of its own latency server checked', async () => {
    const { stdout } = await example('parallel-downloads.ts', ['200', '50']);
    expect(stdout).toContain('Downloaded 200 pages');
    expect(stdout).toContain('every page checked');
  }, 120_000);

  it('nested-loops.ts: inner maps inside an outer map, more items than CPUs, identical to one thread', async () => {
    const { stdout } = await example('nested-loops.ts', ['6', '4']);
    expect(stdout).toContain('results identical   yes');
  }, 120_000);

  it('backtest-cache.ts: the second run finds every cell in the cache', async () => {
    const first = await example('backtest-cache.ts', [], tmp);
    expect(first.stdout).toMatch(/cache +0\/240 hits/);
    expect(first.stdout).toContain('the best cell recomputed in the driver: identical');
    const second = await example('backtest-cache.ts', [], tmp);
    expect(second.stdout).toMatch(/cache +240\/240 hits/);
    expect(second.stdout).toContain('the best cell recomputed in the driver: identical');
  }, 200_000);
});
