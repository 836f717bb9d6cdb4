/**
 * How Node evaluates a TypeScript file, as it would the JavaScript it becomes: `.mts` as a module,
 * `.cts` as CommonJS, `.ts` and `.tsx` by the `type` of their package scope. Used by the workers'
 * hooks (the format they load a file in) and by the node's compiler (compiling ahead in the
 * format the hooks will ask for).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TS_EXTENSIONS } from './ts-resolution.ts';

export type Format = 'module' | 'commonjs';

/** package.json `type` by folder, so that each lookup reads each package.json once. */
const scopeTypes = new Map<string, Format>();

/** The format `file` (a TypeScript file's path) is evaluated in. */
export function tsFormat(file: string): Format {
  return TS_EXTENSIONS.get(path.extname(file)) ?? scopeType(path.dirname(file));
}

/** The `type` of the package a folder belongs to, as Node decides it for `.js`. */
function scopeType(dir: string): Format {
  const known = scopeTypes.get(dir);
  if (known) return known;
  let type: Format = 'commonjs';
  let manifest: string | undefined;
  try {
    manifest = readFileSync(path.join(dir, 'package.json'), 'utf8');
  } catch {
    manifest = undefined;
  }
  if (manifest !== undefined) {
    try {
      type = (JSON.parse(manifest) as { type?: unknown }).type === 'module' ? 'module' : 'commonjs';
    } catch {
      type = 'commonjs';
    }
  } else if (path.dirname(dir) !== dir && path.basename(dir) !== 'node_modules') {
    type = scopeType(path.dirname(dir));
  }
  scopeTypes.set(dir, type);
  return type;
}
