import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectSpiller } from '../src/object-spiller.ts';
import { ObjectStore, type ObjectEntry } from '../src/object-store.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-spiller-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KB = 1024;
const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
};
const value = (fill: number) => ({ status: 'ok' as const, value: { data: new Uint8Array(200 * KB).fill(fill) } });

describe('the object spiller', () => {
  it('spills the least recently used value, reads it back on demand, and keeps its file for the next spill', async () => {
    const store = new ObjectStore();
    const spillDir = path.join(dir, 'a');
    const spiller = new ObjectSpiller(store, 300 * KB, spillDir, 'node-1');
    store.fetch = (entry) => spiller.restore(entry);
    store.onComplete = () => spiller.check();
    store.onFree = (entry) => spiller.forget(entry);
    for (const [i, id] of ['x', 'y'].entries()) {
      store.addHolder(id, 'driver');
      store.complete(id, value(i + 1));
    }
    const x = store.get('x') as ObjectEntry;
    await until(() => x.spilled !== undefined);
    expect(readdirSync(spillDir)).toEqual(['x']);
    // Read back: y, now the least recent, goes to disk; x's file stays.
    const back = await new Promise<ObjectEntry>((resolve) => store.onResult(x, resolve));
    expect(back.result?.status === 'ok' && back.result.value.data[0]).toBe(1);
    const y = store.get('y') as ObjectEntry;
    await until(() => y.spilled !== undefined);
    expect(readdirSync(spillDir).sort()).toEqual(['x', 'y']);
    // x again to disk (no write: its file is there) and back, many times: its bytes never go.
    for (let round = 0; round < 5; round++) {
      const again = await new Promise<ObjectEntry>((resolve) => store.onResult(store.get('y') as ObjectEntry, resolve));
      expect(again.result?.status).toBe('ok');
      const xs = await new Promise<ObjectEntry>((resolve) => store.onResult(store.get('x') as ObjectEntry, resolve));
      expect(xs.result?.status === 'ok' && xs.result.value.data[200 * KB - 1]).toBe(1);
    }
    // Freed: its file goes.
    store.removeHolder('x', 'driver');
    await until(() => !existsSync(path.join(spillDir, 'x')));
    expect(existsSync(path.join(spillDir, 'x'))).toBe(false);
  });
});
