import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModuleLoader } from '../src/module-loader.ts';

let root: string;
let jobDir: string;
let outside: string;
const imported = (): string[] => ((globalThis as { weftImported?: string[] }).weftImported ??= []);

/** A module that records its import in globalThis.weftImported. */
function moduleFile(file: string, name: string): void {
  writeFileSync(file, `(globalThis.weftImported ??= []).push(${JSON.stringify(name)});\nexport const value = 1;\n`);
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'weft-module-loader-'));
  jobDir = path.join(root, 'session', 'jobs', 'job-network');
  mkdirSync(path.join(jobDir, 'lib'), { recursive: true });
  moduleFile(path.join(jobDir, 'lib', 'inside.mjs'), 'inside');
  outside = path.join(root, 'outside.mjs');
  moduleFile(outside, 'outside');
  symlinkSync(outside, path.join(jobDir, 'link.mjs'));
  symlinkSync(root, path.join(jobDir, 'up'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function loader(): ModuleLoader {
  const l = new ModuleLoader(path.join(root, 'session', 'jobs'), { importing: false }, 'job-local');
  l.setJobDir('job-network', jobDir);
  return l;
}

/** The error loading `module` for `jobId` gives, if any. */
async function failure(module: string, jobId = 'job-network'): Promise<string | undefined> {
  return loader().loadFunction({ module, name: 'f' }, jobId).then(() => undefined, (error: Error) => error.message);
}

describe('module paths', () => {
  it.each([
    ['an absolute path', () => outside], ['a path climbing out with ..', () => '../../../outside.mjs'],
    ['a symlink to a file outside', () => 'link.mjs'], ['a path through a symlink to a folder outside', () => 'up/outside.mjs'],
  ])('refuses %s for a job that came over the network, importing nothing', async (_what, module) => {
    const before = imported().length;
    expect(await failure(module())).toMatch(/outside the folder of job job-network/);
    expect(imported().length).toBe(before);
  });

  it('refuses a module of a job whose code is not on this node', async () => {
    expect(await failure('lib/inside.mjs', 'job-unknown')).toMatch(/job job-unknown has no code on this node/);
  });

  it('imports a module inside the job folder (and then looks for the function)', async () => {
    expect(await failure('lib/inside.mjs')).toMatch(/remote function f is not defined in lib\/inside.mjs/);
    expect(imported()).toContain('inside');
  });

  it('lets the embedded driver\'s own job name a module anywhere on this machine', async () => {
    expect(await failure(outside, 'job-local')).toMatch(/remote function f is not defined/);
    expect(imported()).toContain('outside');
  });
});
