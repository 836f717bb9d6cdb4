import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIgnored, parseIgnoreRules } from '../src/runtime/ignore-rules.ts';
import { PACKAGE_MARKER, packDirectory, unpackDirectory } from '../src/runtime/package-dir.ts';

let tmp: string;

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-package-dir-'));
});

afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Writes `files` (relative path → contents) under `root`, creating directories. */
async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}

/** Relative POSIX paths of all files and symlinks under `root`, sorted. */
async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(rel: string): Promise<void> {
    for (const entry of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await visit(child);
      else out.push(child);
    }
  }
  await visit('');
  return out.sort();
}

/** Packs `src` and lists what unpacking it yields (without the marker). */
async function packedPaths(src: string, excludes?: string[]): Promise<string[]> {
  const packed = await packDirectory(src, { excludes });
  const out = path.join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  await unpackDirectory(packed.data, out);
  return (await listTree(out)).filter((p) => p !== PACKAGE_MARKER);
}

/** Builds a package by hand, bypassing packDirectory's checks, following the documented format. */
function craft(entries: Array<{ path: string; mode?: number; content?: string }>, version = 1): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const entry of entries) {
    const name = Buffer.from(entry.path, 'utf8');
    const content = Buffer.from(entry.content ?? 'x');
    const head = Buffer.alloc(2 + name.length + 10);
    head.writeUInt16BE(name.length, 0);
    name.copy(head, 2);
    head.writeUInt16BE(entry.mode ?? 0o644, 2 + name.length);
    head.writeBigUInt64BE(BigInt(content.length), 4 + name.length);
    parts.push(head, content);
  }
  return Buffer.concat([Buffer.from('WFPK'), Buffer.from([version]), zlib.gzipSync(Buffer.concat(parts))]);
}

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(() => true, () => false);
}

describe('packDirectory / unpackDirectory', () => {
  it('round-trips a tree with nested directories, a binary file and an executable', async () => {
    const src = path.join(tmp, 'src');
    const binary = new Uint8Array(4096).map((_, i) => (i * 131 + 7) % 256);
    await writeTree(src, {
      'main.ts': 'export const x = 1;\n',
      'lib/util.ts': 'export {};\n',
      'lib/deep/er/data.bin': binary,
      'bin/run.sh': '#!/bin/sh\necho hi\n',
      'empty.txt': '',
    });
    await fs.chmod(path.join(src, 'bin/run.sh'), 0o775);
    await fs.chmod(path.join(src, 'main.ts'), 0o600);
    const packed = await packDirectory(src);
    expect(packed.files).toBe(5);
    expect(packed.bytes).toBe(20 + 11 + 4096 + 18 + 0);
    expect(packed.hash).toMatch(/^[0-9a-f]{64}$/);

    const out = path.join(tmp, 'out');
    expect(await unpackDirectory(packed.data, out)).toEqual({ files: 5 });
    expect(await listTree(out)).toEqual([PACKAGE_MARKER, 'bin/run.sh', 'empty.txt', 'lib/deep/er/data.bin', 'lib/util.ts', 'main.ts']);
    expect(new Uint8Array(await fs.readFile(path.join(out, 'lib/deep/er/data.bin')))).toEqual(binary);
    expect(await fs.readFile(path.join(out, 'main.ts'), 'utf8')).toBe('export const x = 1;\n');
    expect((await fs.stat(path.join(out, 'bin/run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await fs.stat(path.join(out, 'main.ts'))).mode & 0o7777).toBe(0o644);
    expect(JSON.parse(await fs.readFile(path.join(out, PACKAGE_MARKER), 'utf8'))).toMatchObject({ hash: packed.hash, files: 5 });
  });

  it('skips node_modules, .git and .weft at any depth, symlinks and a root marker', async () => {
    const src = path.join(tmp, 'src');
    await writeTree(src, {
      'a.ts': '1',
      'node_modules/dep/index.js': '2',
      '.git/HEAD': '3',
      '.weft/session': '4',
      'sub/node_modules/x.js': '5',
      'sub/.git': 'gitdir: elsewhere',
      'sub/b.ts': '6',
      [PACKAGE_MARKER]: '{}',
    });
    await fs.writeFile(path.join(tmp, 'outside.txt'), 'secret');
    await fs.symlink(path.join(tmp, 'outside.txt'), path.join(src, 'link.txt'));
    await fs.symlink(tmp, path.join(src, 'linkdir'));
    expect(await packedPaths(src)).toEqual(['a.ts', 'sub/b.ts']);
  });

  it('applies root and nested .gitignore files and excludes', async () => {
    const src = path.join(tmp, 'src');
    await writeTree(src, {
      '.gitignore': [
        '# a comment', '', '*.log', '!keep.log', 'build/', '/top.txt', 'file?.tmp', 'x[ab].dat',
        'docs/**/*.pdf', '**/cache', 'out/**', 'notes.md   ', 'tmp/*.bin',
      ].join('\n'),
      'a.log': '', 'keep.log': '', 'deep/b.log': '',
      'build/x.js': '', 'build.ts': '', 'src/build': 'a file, not a directory',
      'top.txt': '', 'nested/top.txt': '',
      'file1.tmp': '', 'file10.tmp': '',
      'xa.dat': '', 'xb.dat': '', 'xc.dat': '',
      'docs/a.pdf': '', 'docs/x/y/b.pdf': '', 'docs/c.md': '',
      'cache/1': '', 'lib/cache/2': '',
      'out/o.js': '',
      'notes.md': '',
      'tmp/a.bin': '', 'tmp/deeper/b.bin': '',
      'pkg/.gitignore': '*.gen.ts\n!keep.gen.ts\n/local.txt\n',
      'pkg/a.gen.ts': '', 'pkg/keep.gen.ts': '', 'pkg/local.txt': '', 'pkg/sub/local.txt': '', 'pkg/sub/b.gen.ts': '',
      'other/a.gen.ts': '', 'other/local.txt': '',
      'secret.env': '', 'sub/secret.env': '',
    });
    expect(await packedPaths(src, ['*.env', '!sub/secret.env', 'xc.dat'])).toEqual([
      '.gitignore',
      'build.ts',
      'docs/c.md',
      'file10.tmp',
      'keep.log',
      'nested/top.txt',
      'other/a.gen.ts',
      'other/local.txt',
      'pkg/.gitignore',
      'pkg/keep.gen.ts',
      'pkg/sub/local.txt',
      'src/build',
      'sub/secret.env',
      'tmp/deeper/b.bin',
    ]);
  });

  it('cannot re-include a file inside an excluded directory, as in git', async () => {
    const src = path.join(tmp, 'src');
    await writeTree(src, { '.gitignore': 'dist/\n!dist/keep.js\n', 'dist/keep.js': '', 'dist/other.js': '' });
    expect(await packedPaths(src)).toEqual(['.gitignore']);
  });

  it('refuses a tree over the size limit, naming the total, the limit and the 5 largest files', async () => {
    const src = path.join(tmp, 'src');
    const files: Record<string, string> = {};
    for (let i = 1; i <= 7; i += 1) files[`f${i}.dat`] = 'x'.repeat(i * 1000);
    await writeTree(src, files);
    const error = await packDirectory(src, { maxBytes: 10_000 }).then(() => null, (e: Error) => e);
    expect(error?.message).toContain(src);
    expect(error?.message).toContain('27.3 KiB in 7 files');
    expect(error?.message).toContain('limit of 9.8 KiB');
    expect(error?.message).toContain('f7.dat (6.8 KiB), f6.dat (5.9 KiB), f5.dat (4.9 KiB), f4.dat (3.9 KiB), f3.dat (2.9 KiB).');
    expect(error?.message).not.toContain('f2.dat');
    expect(error?.message).toContain('Add them to .gitignore or pass excludes, or raise the limit');
    await expect(packDirectory(src, { maxBytes: 10_000, excludes: ['f[4-7].dat'] })).resolves.toMatchObject({ files: 3, bytes: 6000 });
  });

  it('is deterministic: the same tree gives the same bytes and hash, a change gives another', async () => {
    const tree = { 'b.ts': 'b', 'a/z.ts': 'z', 'a/y.ts': 'y', 'c/d/e.bin': new Uint8Array([0, 1, 2, 255]) };
    await writeTree(path.join(tmp, 'one'), tree);
    await writeTree(path.join(tmp, 'two'), { 'c/d/e.bin': tree['c/d/e.bin'], 'a/y.ts': 'y', 'b.ts': 'b', 'a/z.ts': 'z' });
    const one = await packDirectory(path.join(tmp, 'one'));
    const again = await packDirectory(path.join(tmp, 'one'));
    const two = await packDirectory(path.join(tmp, 'two'));
    expect(again.hash).toBe(one.hash);
    expect(two.hash).toBe(one.hash);
    expect(Buffer.from(two.data).equals(Buffer.from(one.data))).toBe(true);
    await fs.writeFile(path.join(tmp, 'two', 'b.ts'), 'B');
    expect((await packDirectory(path.join(tmp, 'two'))).hash).not.toBe(one.hash);
  });

  it('makes unpacking the same package twice a no-op and refuses other contents in the target', async () => {
    const src = path.join(tmp, 'src');
    await writeTree(src, { 'a.ts': 'a' });
    const packed = await packDirectory(src);
    const out = path.join(tmp, 'out');
    await unpackDirectory(packed.data, out);
    await fs.writeFile(path.join(out, 'a.ts'), 'changed by a test to prove nothing is rewritten');
    expect(await unpackDirectory(packed.data, out)).toEqual({ files: 1 });
    expect(await fs.readFile(path.join(out, 'a.ts'), 'utf8')).toContain('changed by a test');

    await writeTree(src, { 'b.ts': 'b' });
    const other = await packDirectory(src);
    await expect(unpackDirectory(other.data, out)).rejects.toThrow(/not empty and holds another package/);

    const stranger = path.join(tmp, 'stranger');
    await writeTree(stranger, { 'mine.txt': 'keep me' });
    await expect(unpackDirectory(packed.data, stranger)).rejects.toThrow(/not empty and holds no weft package/);
    expect(await listTree(stranger)).toEqual(['mine.txt']);

    await fs.mkdir(path.join(tmp, 'empty'));
    await expect(unpackDirectory(packed.data, path.join(tmp, 'empty'))).resolves.toEqual({ files: 1 });
  });
});

describe('unpackDirectory rejects bad packages without writing', () => {
  async function expectRejected(data: Uint8Array, message: RegExp): Promise<void> {
    const before = await listTree(tmp);
    const target = path.join(tmp, 'target', 'job');
    await expect(unpackDirectory(data, target)).rejects.toThrow(message);
    expect(await exists(target)).toBe(false);
    expect(await listTree(tmp)).toEqual(before);
  }

  it('truncated data, a wrong header, a bad version', async () => {
    await writeTree(path.join(tmp, 'src'), { 'a.ts': 'a'.repeat(1000), 'b.ts': 'b' });
    const { data } = await packDirectory(path.join(tmp, 'src'));
    await expectRejected(data.subarray(0, data.length - 10), /invalid weft package/);
    await expectRejected(data.subarray(0, 3), /missing "WFPK" header/);
    await expectRejected(Buffer.from('PK\u0003\u0004 not ours'), /missing "WFPK" header/);
    const bumped = Buffer.from(data);
    bumped[4] = 9;
    await expectRejected(bumped, /unsupported weft package version 9 \(this weft reads version 1\)/);
    const flipped = Buffer.from(data);
    flipped[flipped.length - 12] = (flipped[flipped.length - 12] ?? 0) ^ 0xff;
    await expectRejected(flipped, /invalid weft package/);
  });

  it('inconsistent lengths inside a well-formed gzip stream', async () => {
    const good = craft([{ path: 'a.ts', content: 'abc' }]);
    const body = zlib.gunzipSync(good.subarray(5));
    const wrap = (b: Buffer): Buffer => Buffer.concat([good.subarray(0, 5), zlib.gzipSync(b)]);
    const longer = Buffer.from(body);
    longer.writeBigUInt64BE(1000n, 4 + 2 + 4 + 2);
    await expectRejected(wrap(longer), /claims 1000 bytes, beyond the end/);
    await expectRejected(wrap(Buffer.concat([body, Buffer.from('junk')])), /4 bytes after the last entry/);
    const moreEntries = Buffer.from(body);
    moreEntries.writeUInt32BE(2, 0);
    await expectRejected(wrap(moreEntries), /truncated entry 1/);
  });

  it('paths that escape the target, even when other entries are fine', async () => {
    await expectRejected(craft([{ path: '../evil' }]), /"\.\.\/evil" is not a safe relative path/);
    await expectRejected(craft([{ path: 'a.ts' }, { path: 'b/../../evil' }]), /not a safe relative path/);
    await expectRejected(craft([{ path: 'ok/a.ts' }, { path: path.join(tmp, 'evil') }]), /not a safe relative path/);
    await expectRejected(craft([{ path: '/etc/evil' }]), /not a safe relative path/);
    await expectRejected(craft([{ path: '..\\evil' }]), /not a safe relative path/);
    await expectRejected(craft([{ path: 'a//b' }]), /not a safe relative path/);
    await expectRejected(craft([{ path: './a' }]), /not a safe relative path/);
    await expectRejected(craft([{ path: PACKAGE_MARKER }]), /not a safe relative path/);
    expect(await exists(path.join(tmp, 'evil'))).toBe(false);
  });

  it('setuid or odd modes, duplicates, unsorted entries, a path that is a file and a directory', async () => {
    await expectRejected(craft([{ path: 'a.sh', mode: 0o4755 }]), /mode 4755/);
    await expectRejected(craft([{ path: 'a.sh', mode: 0o777 }]), /mode 777/);
    await expectRejected(craft([{ path: 'a' }, { path: 'a' }]), /not sorted and unique/);
    await expectRejected(craft([{ path: 'b' }, { path: 'a' }]), /not sorted and unique/);
    await expectRejected(craft([{ path: 'a' }, { path: 'a/b' }]), /both a file and a directory/);
  });
});

describe('ignore rules', () => {
  const cases: Array<[string, string, boolean, boolean]> = [
    // [pattern, path, isDir, ignored]
    ['*.log', 'a.log', false, true],
    ['*.log', 'x/y/a.log', false, true],
    ['*.log', 'a.logx', false, false],
    ['/a.log', 'x/a.log', false, false],
    ['/a.log', 'a.log', false, true],
    ['a/b', 'x/a/b', false, false],
    ['a/b', 'a/b', false, true],
    ['build/', 'build', false, false],
    ['build/', 'build', true, true],
    ['build/', 'x/build', true, true],
    ['?.ts', 'a.ts', false, true],
    ['?.ts', 'ab.ts', false, false],
    ['a?b', 'a/b', false, false],
    ['[abc].ts', 'b.ts', false, true],
    ['[abc].ts', 'd.ts', false, false],
    ['[a-c].ts', 'c.ts', false, true],
    ['[!a-c].ts', 'c.ts', false, false],
    ['[!a-c].ts', 'd.ts', false, true],
    ['a*', 'a/b', false, false],
    ['**/foo', 'foo', false, true],
    ['**/foo', 'x/y/foo', false, true],
    ['a/**/b', 'a/b', false, true],
    ['a/**/b', 'a/x/y/b', false, true],
    ['a/**', 'a/x/y', false, true],
    ['a/**', 'a', true, false],
    ['**', 'anything/at/all', false, true],
    ['\\#file', '#file', false, true],
    ['\\!file', '!file', false, true],
    ['trail\\ ', 'trail ', false, true],
    ['trail  ', 'trail', false, true],
    ['a.b', 'axb', false, false],
    ['(x)+', '(x)+', false, true],
  ];
  it.each(cases)('%j on %j (dir: %j) → ignored: %j', (pattern, rel, isDir, ignored) => {
    expect(isIgnored(rel, isDir, parseIgnoreRules(pattern))).toBe(ignored);
  });

  it('skips comments and blank lines, handles CRLF, and lets the last match win', () => {
    const rules = parseIgnoreRules('# *.ts\r\n\r\n*.js\r\n!keep.js\r\n');
    expect(rules).toHaveLength(2);
    expect(isIgnored('a.ts', false, rules)).toBe(false);
    expect(isIgnored('a.js', false, rules)).toBe(true);
    expect(isIgnored('keep.js', false, rules)).toBe(false);
    expect(isIgnored('keep.js', false, rules, parseIgnoreRules('keep.js'))).toBe(true);
  });

  it('scopes a nested file’s rules to its directory', () => {
    const rules = parseIgnoreRules('/only-here\n*.tmp\n', 'pkg/sub');
    expect(isIgnored('pkg/sub/only-here', false, rules)).toBe(true);
    expect(isIgnored('pkg/sub/x/only-here', false, rules)).toBe(false);
    expect(isIgnored('only-here', false, rules)).toBe(false);
    expect(isIgnored('pkg/sub/x/a.tmp', false, rules)).toBe(true);
    expect(isIgnored('pkg/a.tmp', false, rules)).toBe(false);
    expect(isIgnored('pkg/subway/a.tmp', false, rules)).toBe(false);
  });
});
