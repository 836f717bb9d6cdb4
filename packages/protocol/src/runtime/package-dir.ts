/**
 * Packing a job's working directory for code distribution (DESIGN.md, "Code distribution"): the
 * driver packs its working directory once per job, the head relays the bytes, and each node
 * unpacks them into a per-job folder that workers import task modules from, like Ray's
 * runtime_env working_dir.
 *
 * Package format, version 1 (all integers big-endian):
 *
 *     data  = "WFPK" (4 bytes) · version (1 byte, = 1) · gzip(body)
 *     body  = entryCount (u32) · entry*
 *     entry = pathLength (u16) · path (UTF-8) · mode (u16) · size (u64) · size bytes of content
 *
 * Paths are relative POSIX paths of regular files, sorted (JS string order) and unique; mode is
 * 0o644 or 0o755 (executable for the owner, as git records it). Directories are implied by the
 * paths, so empty directories are not carried (as in git). The magic and version sit outside the
 * gzip stream so an unknown version is reported as such rather than as corrupt data; gzip's
 * CRC-32 catches truncation and bit flips. The package's hash is the sha256 of `data`: the same
 * tree packed by the same Node build gives the same bytes, so it names the content for caching
 * and for the `.weft-package` marker that makes a repeated unpack a no-op.
 */
import { createHash } from 'node:crypto';
import { constants, existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { isIgnored, parseIgnoreRules, type IgnoreRule } from './ignore-rules.ts';

/** Default limit on the total size of packed file contents, before compression: 100 MiB. */
export const DEFAULT_PACKAGE_MAX_BYTES = 100 * 1024 * 1024;
/** Default limit on the decompressed size unpackDirectory accepts (a guard against gzip bombs): 1 GiB. */
export const DEFAULT_UNPACK_MAX_BYTES = 1024 * 1024 * 1024;
/** The file an unpacked directory holds with the package's hash; never packed from a root. */
export const PACKAGE_MARKER = '.weft-package';
/** Version of the format written by packDirectory. */
export const PACKAGE_FORMAT_VERSION = 1;

const MAGIC = Buffer.from('WFPK', 'latin1');
const ALWAYS_SKIPPED = new Set(['node_modules', '.git', '.weft']);
/** The file that marks a cache folder (the Cache Directory Tagging spec, bford.info/cachedir), and how it starts. */
export const CACHE_DIR_TAG = 'CACHEDIR.TAG';
export const CACHE_DIR_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';
const gunzip = promisify(zlib.gunzip);

/** Options of {@link packDirectory}. */
export interface PackOptions {
  /** Limit on the total bytes of file contents, uncompressed. Default {@link DEFAULT_PACKAGE_MAX_BYTES}. */
  maxBytes?: number;
  /** Extra exclude patterns in .gitignore syntax, relative to `dir`; they take precedence over .gitignore files. */
  excludes?: string[];
  /** Files to add that are not in `dir` (relative POSIX path → contents); a real file of that path wins. */
  extraFiles?: Record<string, Uint8Array>;
}

/** A packed directory. */
export interface PackedDirectory {
  /** The package bytes (format above). */
  data: Uint8Array;
  /** Number of files packed. */
  files: number;
  /** Total bytes of file contents, uncompressed. */
  bytes: number;
  /** sha256 (hex) of `data`. */
  hash: string;
}

interface FoundFile {
  rel: string;
  abs: string;
  size: number;
  mode: number;
  /** Contents given in memory (an extra file); absent: read from `abs`. */
  content?: Uint8Array;
}

/**
 * Packs the regular files under `dir` into one gzip-compressed buffer. Skipped: `node_modules`,
 * `.git` and `.weft` at any depth, folders tagged as caches (CACHEDIR.TAG), paths matched by any .gitignore (root or nested) or by
 * `options.excludes`, symbolic links (never followed) and special files. Paths are sorted, so
 * the same tree gives the same bytes and hash.
 * @throws Error when the files total more than `maxBytes`, naming the largest files.
 */
export async function packDirectory(dir: string, options: PackOptions = {}): Promise<PackedDirectory> {
  const root = path.resolve(dir);
  const maxBytes = options.maxBytes ?? DEFAULT_PACKAGE_MAX_BYTES;
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory()) throw new Error(`cannot pack ${root}: not a directory`);
  const excludes = parseIgnoreRules((options.excludes ?? []).join('\n'));
  const found: FoundFile[] = [];
  await walk(root, '', [], excludes, found);
  for (const [rel, content] of Object.entries(options.extraFiles ?? {})) {
    if (!found.some((file) => file.rel === rel)) found.push({ rel, abs: '', size: content.byteLength, mode: 0o644, content });
  }
  found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  // Check the limit on sizes from lstat, before reading anything.
  checkLimit(root, found, maxBytes);

  let bytes = 0;
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  async function* body(): AsyncGenerator<Buffer> {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(found.length);
    yield count;
    for (const file of found) {
      // A file may change between lstat and read: the header takes the length actually read, and
      // O_NOFOLLOW refuses a file swapped for a symlink meanwhile.
      const content = file.content ? Buffer.from(file.content) : await fs.readFile(file.abs, { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
      file.size = content.length;
      bytes += content.length;
      if (bytes > maxBytes) checkLimit(root, found, maxBytes);
      const name = Buffer.from(file.rel, 'utf8');
      const head = Buffer.alloc(2 + name.length + 2 + 8);
      head.writeUInt16BE(name.length, 0);
      name.copy(head, 2);
      head.writeUInt16BE(file.mode, 2 + name.length);
      head.writeBigUInt64BE(BigInt(content.length), 4 + name.length);
      yield head;
      yield content;
    }
  }
  const prefix = Buffer.concat([MAGIC, Buffer.from([PACKAGE_FORMAT_VERSION])]);
  hash.update(prefix);
  chunks.push(prefix);
  // Streamed so only one file's contents is held uncompressed at a time.
  await pipeline(Readable.from(body(), { objectMode: false }), zlib.createGzip(), async (compressed: AsyncIterable<Buffer>) => {
    for await (const chunk of compressed) {
      hash.update(chunk);
      chunks.push(chunk);
    }
  });
  return { data: Buffer.concat(chunks), files: found.length, bytes, hash: hash.digest('hex') };
}

async function walk(root: string, rel: string, rules: IgnoreRule[], excludes: IgnoreRule[], found: FoundFile[]): Promise<void> {
  const abs = rel === '' ? root : path.join(root, rel);
  const entries = await fs.readdir(abs, { withFileTypes: true });
  // A tagged cache folder (a Memory's; `tar --exclude-caches` skips them too) is not code: its
  // entries belong to the driver's machine and would only make the package large.
  if (rel !== '' && await isCacheDir(abs, entries)) return;
  let here = rules;
  if (entries.some((e) => e.name === '.gitignore' && e.isFile())) {
    here = [...rules, ...parseIgnoreRules(await fs.readFile(path.join(abs, '.gitignore'), 'utf8'), rel)];
  }
  const files: Array<Promise<FoundFile>> = [];
  const dirs: string[] = [];
  for (const entry of entries) {
    if (ALWAYS_SKIPPED.has(entry.name) || (rel === '' && entry.name === PACKAGE_MARKER)) continue;
    // Symlinks are neither followed nor recorded: a link could point outside the tree.
    if (entry.isSymbolicLink() || !(entry.isFile() || entry.isDirectory())) continue;
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (isIgnored(childRel, entry.isDirectory(), here, excludes)) continue;
    if (!isSafePath(childRel)) throw new Error(`cannot pack ${path.join(root, childRel)}: its name is not a safe relative path`);
    const fileAbs = path.join(root, childRel);
    if (entry.isDirectory()) dirs.push(childRel);
    else files.push(fs.lstat(fileAbs).then((s) => ({ rel: childRel, abs: fileAbs, size: s.size, mode: s.mode & 0o100 ? 0o755 : 0o644 })));
  }
  found.push(...(await Promise.all(files)));
  for (const child of dirs) await walk(root, child, here, excludes, found);
}

async function isCacheDir(abs: string, entries: Array<{ name: string; isFile(): boolean }>): Promise<boolean> {
  if (!entries.some((e) => e.name === CACHE_DIR_TAG && e.isFile())) return false;
  const head = await fs.readFile(path.join(abs, CACHE_DIR_TAG), 'latin1').catch(() => '');
  return head.startsWith(CACHE_DIR_SIGNATURE);
}

function checkLimit(root: string, found: FoundFile[], maxBytes: number): void {
  const total = found.reduce((sum, f) => sum + f.size, 0);
  if (total <= maxBytes) return;
  const largest = [...found].sort((a, b) => b.size - a.size).slice(0, 5);
  throw new Error(
    `working directory ${root} is too large to pack: ${formatBytes(total)} in ${found.length} files, ` +
      `over the limit of ${formatBytes(maxBytes)}. Largest files: ` +
      `${largest.map((f) => `${f.rel} (${formatBytes(f.size)})`).join(', ')}. ` +
      'Add them to .gitignore or pass excludes, or raise the limit (maxBytes).',
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Whether `rel` is a safe relative POSIX path: not empty or absolute, no `.`/`..`/empty segments,
 * no backslash (a separator on Windows), drive letter or NUL, and not the marker file.
 */
function isSafePath(rel: string): boolean {
  const segments = rel.split('/');
  return !(rel === '' || rel.includes('\\') || rel.includes('\0') || /^[A-Za-z]:/.test(rel) ||
    segments.some((s) => s === '' || s === '.' || s === '..') || segments[0] === PACKAGE_MARKER);
}

/** Options of {@link unpackDirectory}. */
export interface UnpackOptions {
  /** Largest decompressed package accepted. Default {@link DEFAULT_UNPACK_MAX_BYTES}. */
  maxBytes?: number;
}

interface Entry {
  rel: string;
  mode: number;
  content: Buffer;
}

/**
 * Unpacks a package made by {@link packDirectory} into `target`, creating it if needed. The whole
 * package is validated before anything is written (version, lengths, paths that are absolute,
 * contain `..` or would resolve outside `target`, modes), and a bad package is rejected as a
 * whole. `target` must be missing or empty, or hold this same package (its `.weft-package`
 * marker names the same hash; then nothing is done). Files get mode 0o644 or 0o755, never more.
 * @returns the number of files in the package.
 */
export async function unpackDirectory(data: Uint8Array, target: string, options: UnpackOptions = {}): Promise<{ files: number }> {
  const root = path.resolve(target);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < MAGIC.length + 1 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('invalid weft package: missing "WFPK" header');
  }
  const version = bytes[MAGIC.length];
  if (version !== PACKAGE_FORMAT_VERSION) {
    throw new Error(`unsupported weft package version ${version} (this weft reads version ${PACKAGE_FORMAT_VERSION})`);
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const existing = await readTarget(root);
  if (existing !== 'empty') {
    if (existing?.hash === hash) return { files: existing.files };
    const holds = existing ? `holds another package (${existing.hash})` : 'holds no weft package';
    throw new Error(`cannot unpack into ${root}: it is not empty and ${holds}`);
  }
  const entries = parseBody(await inflate(bytes.subarray(MAGIC.length + 1), options.maxBytes ?? DEFAULT_UNPACK_MAX_BYTES), root);

  await fs.mkdir(root, { recursive: true });
  const dirs = new Set(entries.map((e) => path.posix.dirname(e.rel)).filter((d) => d !== '.'));
  for (const dir of [...dirs].sort()) await fs.mkdir(path.join(root, dir), { recursive: true });
  for (const entry of entries) {
    const file = path.join(root, entry.rel);
    // "wx" fails on anything already there, a symlink included, instead of writing through it.
    await fs.writeFile(file, entry.content, { flag: 'wx', mode: entry.mode });
    await fs.chmod(file, entry.mode); // exact mode whatever the umask
  }
  // Written last: its presence means the unpack completed.
  const marker = `${JSON.stringify({ version: PACKAGE_FORMAT_VERSION, hash, files: entries.length })}\n`;
  await fs.writeFile(path.join(root, PACKAGE_MARKER), marker, { flag: 'wx', mode: 0o644 });
  return { files: entries.length };
}

/** 'empty' when `root` is missing or an empty directory, its marker when it holds a package, else null. */
async function readTarget(root: string): Promise<'empty' | { hash: string; files: number } | null> {
  const stat = await fs.lstat(root).catch(() => null);
  if (!stat) return 'empty';
  if (!stat.isDirectory()) throw new Error(`cannot unpack into ${root}: not a directory`);
  if ((await fs.readdir(root)).length === 0) return 'empty';
  const marker = await fs.readFile(path.join(root, PACKAGE_MARKER), 'utf8').catch(() => null);
  if (marker === null) return null;
  try {
    const parsed = JSON.parse(marker) as { hash?: unknown; files?: unknown };
    if (typeof parsed.hash === 'string' && typeof parsed.files === 'number') return { hash: parsed.hash, files: parsed.files };
  } catch {
    // an unreadable marker is treated as no package
  }
  return null;
}

async function inflate(compressed: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzip(compressed, { maxOutputLength: maxBytes });
  } catch (error) {
    const reason = error instanceof RangeError ? `it inflates to more than ${formatBytes(maxBytes)}` : (error as Error).message;
    throw new Error(`invalid weft package: ${reason}`);
  }
}

function parseBody(body: Buffer, root: string): Entry[] {
  const fail = (why: string): never => {
    throw new Error(`invalid weft package: ${why}; nothing was written`);
  };
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > body.length) fail(`truncated ${what} at byte ${at}`);
  };
  need(4, 'entry count');
  const count = body.readUInt32BE(at);
  at += 4;
  const entries: Entry[] = [];
  const files = new Set<string>();
  for (let i = 0; i < count; i += 1) {
    need(2, `entry ${i}`);
    const nameLength = body.readUInt16BE(at);
    at += 2;
    need(nameLength + 10, `entry ${i}`);
    const rel = body.toString('utf8', at, at + nameLength);
    at += nameLength;
    const mode = body.readUInt16BE(at);
    const size = body.readBigUInt64BE(at + 2);
    at += 10;
    if (size > BigInt(body.length - at)) fail(`entry ${i} (${JSON.stringify(rel)}) claims ${size} bytes, beyond the end`);
    const content = body.subarray(at, at + Number(size));
    at += Number(size);
    if (!isSafePath(rel)) fail(`entry ${JSON.stringify(rel)} is not a safe relative path`);
    if (!path.resolve(root, rel).startsWith(root.endsWith(path.sep) ? root : root + path.sep)) fail(`entry ${JSON.stringify(rel)} resolves outside the target`);
    if (mode !== 0o644 && mode !== 0o755) fail(`entry ${JSON.stringify(rel)} has mode ${mode.toString(8)} (only 644 and 755 are allowed)`);
    const previous = entries[entries.length - 1];
    if (previous && !(previous.rel < rel)) fail(`entries are not sorted and unique at ${JSON.stringify(rel)}`);
    files.add(rel);
    entries.push({ rel, mode, content });
  }
  if (at !== body.length) fail(`${body.length - at} bytes after the last entry`);
  // A path cannot be both a file and a directory holding other files.
  for (const entry of entries) {
    for (let dir = path.posix.dirname(entry.rel); dir !== '.'; dir = path.posix.dirname(dir)) {
      if (files.has(dir)) fail(`${JSON.stringify(dir)} is both a file and a directory`);
    }
  }
  return entries;
}

/**
 * A package.json giving the unpacked job the module type its files had here, when the working
 * directory has none of its own (a subfolder of a project): without it, nodes would load its
 * TypeScript files as CommonJS where they were ES modules.
 */
export function moduleTypeFile(workingDir: string): Record<string, Uint8Array> {
  if (existsSync(path.join(workingDir, 'package.json'))) return {};
  for (let dir = path.dirname(workingDir); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const type = (JSON.parse(readFileSync(file, 'utf8')) as { type?: string }).type;
      return type ? { 'package.json': Buffer.from(JSON.stringify({ type })) } : {};
    }
    if (path.dirname(dir) === dir) return {};
  }
}
