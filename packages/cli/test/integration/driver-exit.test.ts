/**
 * A driver that exits takes its job with it: its running tasks are cancelled, its actors killed
 * (detached ones stay), its objects freed. A real head and node, started through the CLI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const WEFT = path.resolve(here, '../../bin/weft.mjs');
const FIXTURES = path.resolve(here, '../fixtures');
const session = mkdtempSync(path.join(os.tmpdir(), 'weft-driver-exit-'));
const weft = (...args: string[]) => run(process.execPath, [WEFT, ...args], { timeout: 60_000, env: { ...process.env, WEFT_LOG_LEVEL: 'warn' } });
let url = '';
let token = '';

async function api<T>(what: string): Promise<T> {
  const response = await fetch(`${url.replace('ws', 'http')}/api/${what}`, { headers: { authorization: `Bearer ${token}` } });
  return (await response.json()) as T;
}

beforeAll(async () => {
  await weft('start', '--head', '--port', '0', '--num-cpus', '2', '--session', session);
  url = (JSON.parse(readFileSync(path.join(session, 'head.json'), 'utf8')) as { url: string }).url;
  token = readFileSync(path.join(session, 'token'), 'utf8').trim();
}, 60_000);

afterAll(async () => {
  try {
    await weft('stop', '--session', session);
  } finally {
    rmSync(session, { recursive: true, force: true });
  }
}, 60_000);

describe('a driver that exits', () => {
  it('has its running tasks cancelled, its actors killed but the detached one, and its objects freed', async () => {
    const { stdout } = await weft('submit', '--address', url, '--token', token, '--working-dir', FIXTURES, '--', process.execPath, '--import', 'tsx', 'exiting-driver.ts');
    const ids = JSON.parse(stdout.trim().split('\n').pop() as string) as { plain: string; detached: string; object: string; task: string };
    await vi.waitFor(async () => {
      const actors = await api<Array<{ actorId: string; state: string }>>('actors');
      expect(actors.find((actor) => actor.actorId === ids.plain)?.state).toBe('dead');
      expect(actors.find((actor) => actor.actorId === ids.detached)?.state).toBe('alive');
      const tasks = await api<Array<{ taskId: string; state: string; error?: string }>>('tasks');
      expect(tasks.find((task) => task.taskId === ids.task)).toMatchObject({ state: 'failed', error: 'TASK_CANCELLED' });
      const objects = await api<Array<{ objectId: string }>>('objects');
      expect(objects.some((object) => object.objectId === ids.object)).toBe(false);
    }, { timeout: 15_000, interval: 200 });
  }, 60_000);
});
