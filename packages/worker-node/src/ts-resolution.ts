/**
 * What weft's worker loader adds to Node's resolution for TypeScript, as tsx does: a relative
 * specifier written with a JavaScript extension names the TypeScript file beside it (`./x.js` →
 * `./x.ts`, the form `tsc` with NodeNext asks for), and an extensionless one or a folder finds a
 * file by extension or an `index` file. Pure: the hooks try the candidates in order.
 */

/** The TypeScript extensions the worker loader compiles, and the format each implies (absent: the package scope decides). */
export const TS_EXTENSIONS: ReadonlyMap<string, 'module' | 'commonjs' | undefined> = new Map([
  ['.ts', undefined], ['.tsx', undefined], ['.mts', 'module'], ['.cts', 'commonjs'],
]);

/** JavaScript extension → the TypeScript ones it may stand for, in tsx's order. */
const TS_FOR_JS: Record<string, readonly string[]> = {
  '.js': ['.ts', '.tsx'], '.jsx': ['.tsx', '.ts'], '.mjs': ['.mts'], '.cjs': ['.cts'],
};

/** Extensions tried after an extensionless specifier, and after `/index`. */
const BARE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Extensions that name a file as written (anything else, `./date.utils`, may still want one appended). */
const KNOWN_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.json', '.node', '.wasm', '.ts', '.tsx', '.mts', '.cts']);

/** Whether a specifier is a path (relative, absolute or file URL) rather than a package or a builtin. */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..'
    || specifier.startsWith('/') || specifier.startsWith('file:');
}

/** Whether a URL or path names a TypeScript file. */
export function isTypeScript(urlOrPath: string): boolean {
  return TS_EXTENSIONS.has(extensionOf(urlOrPath));
}

/**
 * The specifiers to try, in order, for a path specifier, without the specifier itself: `first`
 * are tried before it (a `.js` that a TypeScript parent names is its `.ts` sibling first, as tsx
 * has it), `after` once it failed. Query and hash stay on each candidate.
 */
export function tsCandidates(specifier: string, parentIsTs: boolean): { first: string[]; after: string[] } {
  const cut = suffixStart(specifier);
  const base = specifier.slice(0, cut);
  const suffix = specifier.slice(cut);
  const ext = extensionOf(base);
  const swapped = (TS_FOR_JS[ext] ?? []).map((tsExt) => base.slice(0, -ext.length) + tsExt + suffix);
  if (swapped.length > 0) return parentIsTs ? { first: swapped, after: [] } : { first: [], after: swapped };
  if (KNOWN_EXTENSIONS.has(ext)) return { first: [], after: [] };
  const dir = base.endsWith('/') ? base : `${base}/`;
  const files = base.endsWith('/') || base === '.' || base === '..' ? [] : BARE_EXTENSIONS.map((e) => base + e + suffix);
  return { first: [], after: [...files, ...BARE_EXTENSIONS.map((e) => `${dir}index${e}${suffix}`)] };
}

/** The extension of the last path segment (`.ts`), '' when it has none; query and hash ignored. */
function extensionOf(urlOrPath: string): string {
  const base = urlOrPath.slice(0, suffixStart(urlOrPath));
  const name = base.slice(base.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot);
}

/** Where a query or hash starts (the length when there is none). */
function suffixStart(specifier: string): number {
  const query = specifier.indexOf('?');
  const hash = specifier.indexOf('#');
  const ends = [query, hash].filter((at) => at !== -1);
  return ends.length === 0 ? specifier.length : Math.min(...ends);
}
