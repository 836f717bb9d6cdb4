/**
 * weft as npm users get it: each package packed with `pnpm pack` (as it would be published), the
 * five tarballs installed with npm into a fresh folder outside this repository, and then, from
 * that folder only: a plain-JavaScript driver with `node`, a TypeScript driver type-checked with
 * the installed declarations and run with tsx, and the installed `weft` command starting a head
 * and a second node that a driver joins.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliCluster } from '../support/cli-cluster.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const PACKAGES = ['protocol', 'scheduler', 'worker-node', 'core', 'cli'];
const INSTALL_TIMEOUT_MS = 240_000;

let dir: string;
let app: string;
const env = (() => {
  const { WEFT_ADDRESS: _a, WEFT_TOKEN: _t, WEFT_SESSION_DIR: _s, NODE_OPTIONS: _n, ...inherited } = process.env;
  return { ...inherited, WEFT_LOG_LEVEL: 'warn' };
})();

// An actor class lives in a module of its own (a driver script's exports are out of a worker's reach).
const COUNTER = `import { Actor } from '@weft/core';

export class Counter extends Actor {
  n = 0;
  inc(by) { return (this.n += by); }
}
`;

const JS_DRIVER = `import { init, remote, get, put, shutdown, ObjectRef } from '@weft/core';
import { Counter } from './counter.mjs';

export const square = remote(function square(x) { return x * x; });
export const total = remote(function total(values) { return values.reduce((a, b) => a + b, 0); });

await init({ numCpus: 2 });
const squares = [1, 2, 3, 4].map((x) => square.remote(x));
const sum = await get(total.remote(put(await get(squares))));
const counter = Counter.remote();
counter.inc.remote(2);
const n = await get(counter.inc.remote(3));
console.log(JSON.stringify({ sum, n, isRef: squares[0] instanceof ObjectRef }));
await shutdown();
`;

const TS_DRIVER = `import { init, remote, get, shutdown, type ObjectRef } from '@weft/core';

interface Point { x: number; y: number }
export const norm = remote(function norm(p: Point): number { return Math.hypot(p.x, p.y); });

await init({ numCpus: 1 });
const ref: ObjectRef<number> = norm.remote({ x: 3, y: 4 });
const value: number = await get(ref);
console.log(JSON.stringify({ value }));
await shutdown();
`;

const CLUSTER_DRIVER = `import { init, remote, get, getRuntimeContext, shutdown } from '@weft/core';

export const where = remote(function where(i) { return { i, node: getRuntimeContext().nodeId }; });

await init();
// The head's node has resource a, the second node b: half the tasks run on each.
const results = await get(Array.from({ length: 40 }, (_, i) => where.options({ resources: { [i % 2 ? 'b' : 'a']: 0.01 } }).remote(i)));
console.log(JSON.stringify({ count: results.length, nodes: [...new Set(results.map((r) => r.node))].length }));
await shutdown();
`;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weft-packed-'));
  const tarballs = path.join(dir, 'tarballs');
  mkdirSync(tarballs);
  for (const name of PACKAGES) {
    await run('npx', ['--yes', 'pnpm@12.4.2', 'pack', '--pack-destination', tarballs], { cwd: path.join(ROOT, 'packages', name), env, timeout: INSTALL_TIMEOUT_MS });
  }
  app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const files = readdirSync(tarballs).map((file) => path.join(tarballs, file));
  expect(files).toHaveLength(PACKAGES.length);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files, 'typescript@~5.9.3', '@types/node@^20.19.0'],
    { cwd: app, env, timeout: INSTALL_TIMEOUT_MS });
}, INSTALL_TIMEOUT_MS * 2);

afterAll(() => {
  if (dir && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
});

describe('weft installed from its packed tarballs', () => {
  it('installs built JavaScript with declarations, and no TypeScript of its own is loaded', async () => {
    const core = path.join(app, 'node_modules', '@weft', 'core');
    expect(readdirSync(path.join(core, 'dist'))).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'index.js.map']));
    expect(app.startsWith(ROOT)).toBe(false);
  });

  it('runs a plain JavaScript driver with node', async () => {
    writeFileSync(path.join(app, 'counter.mjs'), COUNTER);
    writeFileSync(path.join(app, 'main.mjs'), JS_DRIVER);
    const { stdout } = await run(process.execPath, ['main.mjs'], { cwd: app, env, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ sum: 30, n: 5, isRef: true });
  });

  it('type-checks a TypeScript driver against the installed declarations and runs it with tsx', async () => {
    writeFileSync(path.join(app, 'main.ts'), TS_DRIVER);
    writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] },
      files: ['main.ts'],
    }));
    await run(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: app, env, timeout: 60_000 });
    const { stdout } = await run(path.join(app, 'node_modules', '.bin', 'tsx'), ['main.ts'], { cwd: app, env, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ value: 5 });
  });

  it('starts a head and a second node with the installed weft command, and a driver joins them; the head serves the dashboard', async () => {
    const cluster = new CliCluster({}, path.join(app, 'node_modules', '@weft', 'cli', 'bin', 'weft.mjs'));
    try {
      await cluster.startPair();
      writeFileSync(path.join(app, 'cluster.mjs'), CLUSTER_DRIVER);
      const { stdout } = await run(process.execPath, ['cluster.mjs'], {
        cwd: app, env: { ...env, WEFT_ADDRESS: cluster.url, WEFT_TOKEN: cluster.token }, timeout: 60_000,
      });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { count: number; nodes: number };
      expect(result.count).toBe(40);
      expect(result.nodes).toBe(2);
      // The dashboard's bundle ships inside @weft/scheduler.
      const http = cluster.url.replace(/^ws/, 'http');
      expect(await (await fetch(`${http}/`)).text()).toContain('/assets/app.js');
      expect((await fetch(`${http}/assets/app.js`)).status).toBe(200);
    } finally {
      expect(await cluster.stop()).toEqual([]);
    }
  });
});
