/**
 * `require` of TypeScript in a worker: a CommonJS module that weft's loader compiled (a `.cts`, or
 * a `.ts` of a package without `"type": "module"`) requires through Node's CommonJS resolver,
 * which knows no `.ts`; this retries a relative request that it did not find with the candidates
 * the ESM hooks try (`./x` → `./x.ts`, `./x.js` → `./x.ts`), as tsx's CommonJS hook does. The file
 * found then loads through the hooks (they compile it), since its parent was loaded by them.
 */
import Module from 'node:module';
import { isPathSpecifier, isTypeScript, tsCandidates } from './ts-resolution.ts';

type ResolveFilename = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;

/** Patch Node's CommonJS resolver of this thread (once). */
export function installTsRequire(): void {
  const moduleClass = Module as unknown as { _resolveFilename: ResolveFilename & { weftTs?: true } };
  const original = moduleClass._resolveFilename;
  if (original.weftTs) return;
  const patched: ResolveFilename & { weftTs?: true } = function resolveFilename(this: unknown, request, parent, ...rest) {
    if (!isPathSpecifier(request) || !parent?.filename || !isTypeScript(parent.filename)) return original.call(this, request, parent, ...rest);
    const { first, after } = tsCandidates(request, true);
    let notFound: unknown;
    for (const candidate of [...first, request, ...after]) {
      try {
        return original.call(this, candidate, parent, ...rest);
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code !== 'MODULE_NOT_FOUND') throw error;
        if (candidate === request) notFound = error;
      }
    }
    throw notFound;
  };
  patched.weftTs = true;
  moduleClass._resolveFilename = patched;
}
