import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decode, encode } from '@weft/protocol';
import { checkEntry, readEntry, readEntrySync, writeEntry } from '../src/memory-entry.ts';

const KEY = 'ab'.repeat(32);
const OTHER_KEY = 'cd'.repeat(32);
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weft-memory-entry-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const entryFile = (): string => path.join(dir, 'fn-0123456789abcdef', `${KEY}.weft`);

describe('cache entry files', () => {
  it('round-trips a value, its typed arrays decoding as views of the one buffer the file was read into', async () => {
    const file = entryFile();
    const value = { xs: new Float64Array([1.5, -2, 3]), ys: new Int16Array([7]), label: 'grid' };
    await writeEntry(file, KEY, encode(value, false).data);
    for (const read of [readEntrySync(file, KEY), await readEntry(file, KEY)]) {
      expect(read.status).toBe('ok');
      const frame = (read as { frame: Uint8Array }).frame;
      const back = decode(frame) as typeof value;
      expect(back).toEqual(value);
      expect(back.xs.buffer).toBe(frame.buffer);
      expect(back.ys.buffer).toBe(frame.buffer);
      expect(frame.buffer.byteLength).toBeGreaterThanOrEqual(statSync(file).size);
    }
    expect(readdirSync(path.dirname(file))).toEqual([`${KEY}.weft`]); // no temporary file left
  });

  it('says missing when there is no entry', async () => {
    expect(readEntrySync(entryFile(), KEY)).toEqual({ status: 'missing' });
    expect(await readEntry(entryFile(), KEY)).toEqual({ status: 'missing' });
  });

  it('replaces an entry atomically: a reader sees the old value or the new one, whole, never a part', async () => {
    const file = entryFile();
    const frames = [1, 2].map((fill) => encode(new Float64Array(500_000).fill(fill), false).data);
    await writeEntry(file, KEY, frames[0] as Uint8Array);
    const seen = new Set<number>();
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 8; i++) await writeEntry(file, KEY, frames[i % 2] as Uint8Array);
      writing = false;
    })();
    while (writing) {
      const read = readEntrySync(file, KEY);
      expect(read.status).toBe('ok');
      const xs = decode((read as { frame: Uint8Array }).frame) as Float64Array;
      expect(xs[0]).toBe(xs[xs.length - 1]);
      seen.add(xs[0] as number);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writer;
    expect(seen.size).toBeGreaterThan(0);
    expect(readdirSync(path.dirname(file))).toEqual([`${KEY}.weft`]);
  });

  it('drops a write that is no longer wanted, leaving neither the entry nor a temporary file', async () => {
    const file = entryFile();
    await writeEntry(file, KEY, encode([1], false).data, () => false);
    expect(readdirSync(path.dirname(file))).toEqual([]);
  });

  it('reports a truncated, padded, altered or foreign entry as corrupt, whatever byte is hit', async () => {
    const file = entryFile();
    await writeEntry(file, KEY, encode({ xs: new Float64Array([1, 2, 3, 4]), s: 'text' }, false).data);
    const good = readFileSync(file);
    const cases: Array<[string, Buffer]> = [
      ['empty', Buffer.alloc(0)],
      ['padded', Buffer.concat([good, Buffer.alloc(8)])],
      ['not an entry', Buffer.from('#!/bin/sh\nrm -rf ~\n')],
    ];
    for (const length of [1, 8, 40, 56, good.length - 9, good.length - 1]) cases.push([`truncated to ${length}`, good.subarray(0, length)]);
    for (let at = 0; at < good.length; at += 1) {
      if (at >= 20 && at < 24) continue; // reserved bytes
      const bad = Buffer.from(good);
      bad[at] = (bad[at] as number) ^ 0x40;
      cases.push([`byte ${at} flipped`, bad]);
    }
    for (const [what, bytes] of cases) {
      writeFileSync(file, bytes);
      expect(readEntrySync(file, KEY).status, what).toBe('corrupt');
      expect((await readEntry(file, KEY)).status, what).toBe('corrupt');
    }
    writeFileSync(file, good);
    expect(readEntrySync(file, OTHER_KEY)).toMatchObject({ status: 'corrupt', reason: 'the entry belongs to another key' });
    truncateSync(file, good.length - 3);
    expect(readEntrySync(file, KEY)).toMatchObject({ status: 'corrupt' });
  });

  it('reports an entry that cannot be read (a folder in its place) as corrupt, not as an exception', async () => {
    const file = entryFile();
    mkdirSync(file, { recursive: true });
    expect(readEntrySync(file, KEY).status).toBe('corrupt');
    expect((await readEntry(file, KEY)).status).toBe('corrupt');
  });

  it('checks bytes already in memory the same way', () => {
    expect(checkEntry(new Uint8Array(10), KEY).status).toBe('corrupt');
  });
});
