import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packDirectory } from '@weft/protocol';
import { JobDirectories, modulesHolding } from '../src/job-directories.ts';
import { fileFor } from '../src/safe-path.ts';

let root: string;
let session: string;
let pkg: Uint8Array;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'weft-job-dirs-'));
  session = path.join(root, 'a', 'b', 'c', 'session');
  mkdirSync(session, { recursive: true });
  const project = path.join(root, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'tasks.mjs'), 'export const x = 1;\n');
  pkg = (await packDirectory(project)).data;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('job directories', () => {
  it('unpacks a job into <session>/jobs/<jobId>', async () => {
    const jobs = new JobDirectories(session, async () => pkg, () => {});
    const dir = await jobs.install('job-abcdefghijkl', pkg);
    expect(dir).toBe(path.join(session, 'jobs', 'job-abcdefghijkl'));
    expect(existsSync(path.join(dir, 'tasks.mjs'))).toBe(true);
  });

  it.each(['../../../../x', '../x', 'a/b', '..', '', 'x\0y'])('refuses the job id %j and writes nothing outside its folder', async (jobId) => {
    const before = readdirSync(root).sort();
    const jobs = new JobDirectories(session, async () => pkg, () => {});
    await expect(jobs.install(jobId, pkg)).rejects.toThrow(/is not a weft id/);
    await expect(jobs.ensure(jobId)).rejects.toThrow(/is not a weft id/);
    expect(readdirSync(root).sort()).toEqual(before);
    expect(existsSync(path.join(root, 'a', 'x'))).toBe(false);
    expect(existsSync(path.join(session, 'x'))).toBe(false);
  });
});

describe('spill file names', () => {
  it('keeps an id as the file name and hashes anything else into the folder', () => {
    expect(fileFor('/spill', 'obj-1_A')).toBe('/spill/obj-1_A');
    for (const id of ['../../etc/passwd', '/abs', 'a/b', '..', '']) {
      const file = fileFor('/spill', id);
      expect(path.dirname(file)).toBe('/spill');
      expect(path.basename(file)).toMatch(/^x-[0-9a-f]{64}$/);
    }
  });
});

describe('the installation job code imports @weft/core from', () => {
  function installed(folder: string): void {
    mkdirSync(path.join(folder, '@weft', 'core'), { recursive: true });
    writeFileSync(path.join(folder, '@weft', 'core', 'package.json'), '{"name":"@weft/core"}');
  }

  it('is the nearest node_modules above the node package that holds @weft/core (a flat npm install)', () => {
    const app = path.join(root, 'flat-app');
    installed(path.join(app, 'node_modules'));
    const nodePackage = path.join(app, 'node_modules', '@weft', 'worker-node', 'dist');
    mkdirSync(nodePackage, { recursive: true });
    expect(modulesHolding('@weft/core', nodePackage)).toBe(path.join(app, 'node_modules'));
  });

  it('skips node_modules folders that do not hold it, and is undefined when none does', () => {
    const ws = path.join(root, 'workspace');
    mkdirSync(path.join(ws, 'packages', 'worker-node', 'node_modules', 'tsx'), { recursive: true });
    const own = path.join(ws, 'packages', 'worker-node', 'dist');
    mkdirSync(own, { recursive: true });
    expect(modulesHolding('@weft/core', own)).toBeUndefined();
    installed(path.join(ws, 'node_modules'));
    expect(modulesHolding('@weft/core', own)).toBe(path.join(ws, 'node_modules'));
  });
});
