import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packDirectory } from '@weft/core/internal';
import { JobDirectories } from '../src/job-directories.ts';
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
