/**
 * Workers load users' TypeScript through weft's own loader (the node compiles, the worker's hooks
 * resolve): the layouts tsx runs, written to a temporary folder and imported in a worker.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown } from '@weft/core';
import { importExport } from '../fixtures/import-module.ts';
import { rejectionOf } from '../support/outcome.ts';

let dir: string;

function write(files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weft-ts-loader-'));
  write({
    'esm/package.json': JSON.stringify({ type: 'module' }),
    'esm/main.ts': [
      "import { a } from './a.js';", "import { b } from './b';", "import { c } from './lib';", "import { d } from './d.cjs';",
      "import { e } from './e.mjs';", "import type { Unused } from './types.ts';",
      'const typed: number = a + b + c + d + e;', 'export const value = typed;', 'export const url = import.meta.url;',
    ].join('\n'),
    'esm/a.ts': 'export const a: number = 1;',
    'esm/b.ts': 'export const b = 2 as number;',
    'esm/lib/index.ts': 'export const c: number = 4;',
    'esm/d.cts': 'export const d: number = 8;',
    'esm/e.mts': 'export const e: number = 16;',
    'esm/types.ts': 'export interface Unused { x: number }',
    'cjs/main.ts': "import { x } from './x';\nexport const value: number = x * 2;\nexport const file: string = __filename;",
    'cjs/x.ts': 'export const x: number = 21;',
    'broken/package.json': JSON.stringify({ type: 'module' }),
    'broken/main.ts': 'export const value: number = 1;\nexport const = 2;\n',
  });
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(dir, { recursive: true, force: true });
});

describe('TypeScript modules in workers', () => {
  it('resolves .js specifiers, extensionless ones, folders, .cts and .mts as tsx does', async () => {
    const main = path.join(dir, 'esm', 'main.ts');
    expect(await get(importExport.remote(main, 'value'))).toBe(31);
    expect(await get(importExport.remote(main, 'url'))).toBe(new URL(`file://${main}`).href);
  });

  it('loads a .ts file of a package without "type": "module" as CommonJS', async () => {
    const main = path.join(dir, 'cjs', 'main.ts');
    expect(await get(importExport.remote(main, 'value'))).toBe(42);
    expect(await get(importExport.remote(main, 'file'))).toBe(main);
  });

  it('fails a task whose module does not compile, naming the file and line', async () => {
    const error = await rejectionOf(get(importExport.remote(path.join(dir, 'broken', 'main.ts'), 'value')));
    expect(String((error as Error).message)).toMatch(/broken[/\\]main\.ts:2:\d+/);
  });
});
