/**
 * Paths named after ids that came from other processes (job folders, spill files). The wire
 * validators already refuse an id that is not of weft's form; these check again where the path
 * is made, so that no message can make the node write outside the folder it means.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { isId } from '@weft/protocol';

/** Throws, naming the id, when `id` is not of weft's form (a path, `..`, empty). */
export function checkId(id: string, what: string): void {
  if (!isId(id)) throw new Error(`${what} id ${JSON.stringify(String(id).slice(0, 80))} is not a weft id: refusing to make a path of it`);
}

/** The folder for `id` in `root`; throws when `id` is not of weft's form. */
export function folderFor(root: string, id: string, what: string): string {
  checkId(id, what);
  return path.join(root, id);
}

/** A file in `dir` named after `id`: the id itself when of weft's form, else a hash of it (never a path). */
export function fileFor(dir: string, id: string): string {
  return path.join(dir, isId(id) ? id : `x-${createHash('sha256').update(id).digest('hex')}`);
}
