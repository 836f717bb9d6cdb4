/**
 * Memory without a cluster: folders, the entries behind the map seam (cachedValue / store),
 * damaged entries, clear(), and what cannot be cached. The calls' own path (`.remote()`) is in
 * integration/memory.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const warnings = vi.hoisted(() => [] as Array<{ fields: Record<string, unknown>; message: string }>);
vi.mock('@weft/protocol', async (original) => {
  const fake = {
    warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }),
    info: () => {}, debug: () => {}, error: () => {}, trace: () => {}, fatal: () => {},
    child: () => fake,
  };
  return { ...await original<typeof import('@weft/protocol')>(), logger: () => fake };
});

const { ObjectRef, encode, packDirectory } = await import('@weft/protocol');
const { remote } = await import('../src/remote.ts');
const { Memory, cachedValue, isCachedFunction, store, uncachedFunction, CACHED_FUNCTION } = await import('../src/memory.ts');
const { writeEntry } = await import('../src/memory-entry.ts');

export const square = remote(function square(x: number) { return x * x; });
export const series = remote(function series(n: number, scale: { by: number }) { return new Float64Array(n).fill(scale.by); });
export const stream = remote(function* stream(n: number) { yield n; });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weft-memory-'));
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Every entry file under the cache's folder. */
const entries = (root: string): string[] => readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.weft'));

describe('Memory', () => {
  it('makes its folder, and wraps a remote function keeping its API', () => {
    const memory = new Memory(path.join(dir, 'a', 'b'));
    expect(statSync(memory.location).isDirectory()).toBe(true);
    const cached = memory.cache(square);
    expect(isCachedFunction(cached)).toBe(true);
    expect(isCachedFunction(square)).toBe(false);
    expect(uncachedFunction(cached)).toBe(square);
    expect(cached.fn).toBe(square.fn);
    expect(cached.remoteName).toBe('square');
    for (const name of ['remote', 'map', 'imap', 'imapUnordered', 'starmap'] as const) {
      expect(typeof cached[name]).toBe('function');
      expect(typeof cached.options({ numCpus: 1 })[name]).toBe('function');
    }
    expect(cached.memory).toBe(memory);
    // Wrapping a cached function again caches the function itself.
    expect((memory.cache(cached) as unknown as Record<symbol, { target: unknown }>)[CACHED_FUNCTION]?.target).toBe(square);
  });

  it('tags a folder of its own as a cache, which packing a working directory skips', async () => {
    const project = path.join(dir, 'project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'main.ts'), 'export {};');
    const memory = new Memory(path.join(project, '.weft-cache'));
    expect(readFileSync(path.join(memory.location, 'CACHEDIR.TAG'), 'latin1')).toMatch(/^Signature: 8a477f597d28d172789f06886806bc55\n/);
    await store(memory.cache(square), [2], 4);
    expect(entries(memory.location)).toHaveLength(1);
    const packed = await packDirectory(project);
    expect(packed.files).toBe(1);
    // A folder that holds other things is not tagged: the tag would hide them from backups.
    new Memory(project);
    expect(existsSync(path.join(project, 'CACHEDIR.TAG'))).toBe(false);
  });

  it('refuses what it cannot cache: plain functions, generators, bound functions', () => {
    const memory = new Memory(dir);
    expect(() => memory.cache((() => 1) as never)).toThrow(/takes a remote function/);
    expect(() => memory.cache(stream as never)).toThrow(/generator function/);
    const bound = remote(function boundOne(this: unknown) { return 1; }.bind(null));
    expect(() => memory.cache(bound)).toThrow(/source text cannot be read/);
  });

  it('stores a value and finds it again for equal arguments only, typed arrays as views of the file', async () => {
    const memory = new Memory(dir);
    const cached = memory.cache(series);
    expect(await cachedValue(cached, [4, { by: 2 }])).toEqual({ hit: false });
    await store(cached, [4, { by: 2 }], new Float64Array(4).fill(2));
    const [file] = entries(dir);
    expect(file).toMatch(/^series-[0-9a-f]{16}\/[0-9a-f]{64}\.weft$/);
    const found = await cachedValue<Float64Array>(cached, [4, { by: 2 }]);
    expect(found.hit).toBe(true);
    const value = (found as { value: Float64Array }).value;
    expect(Array.from(value)).toEqual([2, 2, 2, 2]);
    expect(value.buffer.byteLength).toBeGreaterThanOrEqual(statSync(path.join(dir, file as string)).size);
    expect(await cachedValue(cached, [4, { by: 3 }])).toEqual({ hit: false });
    expect(await cachedValue(cached, [5, { by: 2 }])).toEqual({ hit: false });
    // Another Memory on the same folder (the next run) finds it.
    expect((await cachedValue(new Memory(dir).cache(series), [4, { by: 2 }])).hit).toBe(true);
  });

  it('refuses ObjectRef arguments with a TypeError that says what to do', async () => {
    const cached = new Memory(dir).cache(square);
    await expect(cachedValue(cached, [new ObjectRef('obj-memory-test-1')])).rejects.toThrow(/square\.remote\(\) \(cached\): argument 0 is an ObjectRef.*pass the value itself/);
    await expect(store(cached, [{ x: new ObjectRef('obj-memory-test-2') }], 1)).rejects.toThrow(TypeError);
  });

  it('treats arguments the codec cannot send as a miss (the submit reports them)', async () => {
    const cached = new Memory(dir).cache(square);
    expect(await cachedValue(cached, [() => 1])).toEqual({ hit: false });
  });

  it('ignores a damaged entry with a warning, and a store writes it anew', async () => {
    const memory = new Memory(dir);
    const cached = memory.cache(square);
    await store(cached, [3], 9);
    const file = path.join(dir, entries(dir)[0] as string);
    const good = readFileSync(file);
    const damages = [good.subarray(0, good.length - 4), Buffer.from('garbage'), Buffer.alloc(0)];
    for (const bytes of damages) {
      writeFileSync(file, bytes);
      expect(await cachedValue(cached, [3])).toEqual({ hit: false });
    }
    expect(warnings.map((w) => w.message)).toEqual(Array(3).fill('ignoring a damaged cache entry; the call runs again'));
    expect(warnings[0]?.fields.file).toBe(file);
    await store(cached, [3], 9);
    expect(await cachedValue(cached, [3])).toEqual({ hit: true, value: 9 });
  });

  it('ignores an entry whose checksum holds but whose frame does not decode', async () => {
    const cached = new Memory(dir).cache(square);
    await store(cached, [4], 16);
    const file = path.join(dir, entries(dir)[0] as string);
    const key = path.basename(file, '.weft');
    await writeEntry(file, key, new Uint8Array([9, 9, 9, 9])); // a well-formed entry holding no frame
    expect(await cachedValue(cached, [4])).toEqual({ hit: false });
    expect(warnings.map((w) => w.message)).toEqual(['ignoring a cache entry that does not decode; the call runs again']);
  });

  it('does not cache values holding refs (they do not outlive their job)', async () => {
    const cached = new Memory(dir).cache(square);
    await store(cached, [5], { inner: new ObjectRef('obj-memory-test-3') });
    expect(entries(dir)).toEqual([]);
    expect(warnings[0]?.message).toMatch(/not caching a result that holds an ObjectRef/);
  });

  it('clear() removes the entries and their folders, and nothing else', async () => {
    const memory = new Memory(dir);
    const cached = memory.cache(square);
    await Promise.all([1, 2, 3].map((x) => store(cached, [x], x * x)));
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    mkdirSync(path.join(dir, 'project-0123456789abcdef'));
    writeFileSync(path.join(dir, 'project-0123456789abcdef', 'main.ts'), 'mine too');
    const folder = path.dirname(path.join(dir, entries(dir)[0] as string));
    writeFileSync(path.join(folder, `${'e'.repeat(64)}.weft.1a2b3c.tmp`), 'a write cut short');
    expect(entries(dir)).toHaveLength(3);
    memory.clear();
    expect(entries(dir)).toEqual([]);
    expect(existsSync(folder)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['CACHEDIR.TAG', 'notes.txt', 'project-0123456789abcdef']);
    expect(readdirSync(path.join(dir, 'project-0123456789abcdef'))).toEqual(['main.ts']);
    expect(await cachedValue(cached, [2])).toEqual({ hit: false });
  });

  it('clear() drops a write begun before it', async () => {
    const memory = new Memory(dir);
    const cached = memory.cache(square);
    const writing = store(cached, [7], 49);
    memory.clear();
    await writing;
    await memory.flush();
    expect(entries(dir)).toEqual([]);
  });

  it('encodes what it stores with weft\'s codec, never code', async () => {
    const cached = new Memory(dir).cache(square);
    await store(cached, [8], { n: 64, when: new Date(0), m: new Map([[1, 'one']]) });
    const bytes = readFileSync(path.join(dir, entries(dir)[0] as string));
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('weftmem1');
    expect(Buffer.from(bytes.subarray(56, bytes.length - 8)).equals(Buffer.from(encode({ n: 64, when: new Date(0), m: new Map([[1, 'one']]) }, false).data))).toBe(true);
  });
});
