/**
 * The files of the result cache: one per cached call, holding the result as a frame of weft's
 * codec (data, never code: reading an entry runs nothing).
 *
 *   bytes 0-7    magic 'weftmem1'
 *   bytes 8-15   frame length (u64, little-endian)
 *   bytes 16-19  crc32 of the frame
 *   bytes 20-23  zero
 *   bytes 24-55  the call's key (sha256), so that an entry found under another name is refused
 *   bytes 56-    the frame (8-aligned: its typed arrays decode as views of the file's buffer)
 *   last 8 bytes 'weftend1'
 *
 * Writes go to a temporary file in the same folder, renamed over the entry when complete, so a
 * reader sees a whole entry or none. Reads load the file once into one buffer (shared memory
 * when large, from the same allocator as the codec's frames) and check length, magic, key,
 * checksum and trailer: a truncated or damaged entry is reported, never returned.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { allocateFrame } from '@weft/protocol';

const MAGIC = Buffer.from('weftmem1', 'latin1');
const TRAILER = Buffer.from('weftend1', 'latin1');
const KEY_OFFSET = 24;
const KEY_BYTES = 32;
/** Where the frame starts; a multiple of 8. */
const FRAME_OFFSET = KEY_OFFSET + KEY_BYTES;
const OVERHEAD_BYTES = FRAME_OFFSET + TRAILER.length;

/** An entry's file name: its key in hex. */
export const ENTRY_SUFFIX = '.weft';
/** Matches the names of entries and of their temporary files (which clear() removes too). */
export const ENTRY_NAME = /^[0-9a-f]{64}\.weft(\.[0-9a-f]+\.tmp)?$/;

/** The outcome of reading an entry: its frame, nothing there, or why it cannot be used. */
export type EntryRead = { status: 'ok'; frame: Uint8Array } | { status: 'missing' } | { status: 'corrupt'; reason: string };

/** zlib.crc32 where Node has it (20.15+), else a table-driven one. */
const crc32: (data: Uint8Array) => number = (zlib as { crc32?: (data: Uint8Array) => number }).crc32 ?? tableCrc32;

/** Write `frame` as the entry `file` for `key` (hex), atomically: a temporary file, then a rename. */
export async function writeEntry(file: string, key: string, frame: Uint8Array, stillWanted: () => boolean = () => true): Promise<void> {
  const header = Buffer.alloc(FRAME_OFFSET);
  MAGIC.copy(header, 0);
  header.writeBigUInt64LE(BigInt(frame.byteLength), 8);
  header.writeUInt32LE(crc32(frame), 16);
  Buffer.from(key, 'hex').copy(header, KEY_OFFSET);
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid.toString(16)}${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writev([header, frame, TRAILER]);
    } finally {
      await handle.close();
    }
    // A clear() while this was written drops it: what it caches belongs to before the clear.
    if (stillWanted()) await rename(temp, file);
    else await unlink(temp);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** Read the entry `file` for `key` (hex) at once (the hit path of `.remote()`, which returns a ref now). */
export function readEntrySync(file: string, key: string): EntryRead {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    return missingOr(error);
  }
  try {
    const bytes = allocateFrame(fstatSync(fd).size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return checkEntry(bytes.subarray(0, read), key);
  } catch (error) {
    return { status: 'corrupt', reason: describe(error) };
  } finally {
    closeSync(fd);
  }
}

/** Read the entry `file` for `key` (hex) without blocking the event loop (lookups of map items). */
export async function readEntry(file: string, key: string): Promise<EntryRead> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    return missingOr(error);
  }
  try {
    const bytes = allocateFrame((await handle.stat()).size);
    let read = 0;
    while (read < bytes.length) {
      const { bytesRead } = await handle.read(bytes, read, bytes.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return checkEntry(bytes.subarray(0, read), key);
  } catch (error) {
    return { status: 'corrupt', reason: describe(error) };
  } finally {
    await handle.close();
  }
}

/** The frame of an entry's bytes, if they are a whole entry for `key`. */
export function checkEntry(bytes: Uint8Array, key: string): EntryRead {
  if (bytes.length < OVERHEAD_BYTES) return { status: 'corrupt', reason: `${bytes.length} bytes: shorter than an entry's header and trailer` };
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!view.subarray(0, MAGIC.length).equals(MAGIC)) return { status: 'corrupt', reason: 'not a weft cache entry (bad magic)' };
  const length = view.readBigUInt64LE(8);
  if (length !== BigInt(bytes.length - OVERHEAD_BYTES)) {
    return { status: 'corrupt', reason: `truncated or padded: the header says a ${length}-byte frame, the file has room for ${bytes.length - OVERHEAD_BYTES}` };
  }
  if (!view.subarray(bytes.length - TRAILER.length).equals(TRAILER)) return { status: 'corrupt', reason: 'no trailer (truncated)' };
  if (view.subarray(KEY_OFFSET, KEY_OFFSET + KEY_BYTES).toString('hex') !== key) return { status: 'corrupt', reason: 'the entry belongs to another key' };
  const frame = bytes.subarray(FRAME_OFFSET, bytes.length - TRAILER.length);
  if (crc32(frame) !== view.readUInt32LE(16)) return { status: 'corrupt', reason: 'checksum mismatch' };
  return { status: 'ok', frame };
}

function missingOr(error: unknown): EntryRead {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
  return { status: 'corrupt', reason: describe(error) };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let crcTable: Uint32Array | undefined;

function tableCrc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = (crcTable[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
