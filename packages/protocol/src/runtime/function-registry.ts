/**
 * Every remote function defined in this thread, by module and key. A worker imports a task's
 * module and finds the function here: code is never sent in messages, only its address.
 *
 * A function's module is read from the call stack of `remote(...)`, so users write no paths.
 * Keys are the function's name, suffixed `#2`, `#3`… when a name repeats in a module; top-level
 * definitions run in the same order in every process, so keys agree everywhere.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const SLOT = Symbol.for('weft.functions');
type Registry = Map<string, Map<string, unknown>>;

function registry(): Registry {
  const g = globalThis as { [SLOT]?: Registry };
  return (g[SLOT] ??= new Map());
}

/** The absolute path of the module that called `callee` (its direct caller's file). */
export function callerModule(callee: (...args: never[]) => unknown): string | undefined {
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  let sites: NodeJS.CallSite[] = [];
  try {
    Error.stackTraceLimit = 4;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, callee);
    sites = holder.stack as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = saved;
    Error.stackTraceLimit = savedLimit;
  }
  for (const site of sites) {
    const file = site.getFileName() ?? site.getScriptNameOrSourceURL?.();
    if (file) return toPath(file);
  }
  return undefined;
}

function toPath(file: string): string {
  if (file.startsWith('file://')) return fileURLToPath(file);
  return path.resolve(file);
}

/** Record `value` as defined in `module` under a key made from `name`; returns the key. */
export function registerDefinition(module: string, name: string, value: unknown): string {
  const defs = registry();
  let inModule = defs.get(module);
  if (!inModule) defs.set(module, (inModule = new Map()));
  let key = name;
  for (let k = 2; inModule.has(key); k++) key = `${name}#${k}`;
  inModule.set(key, value);
  return key;
}

/** The modules something was registered in so far (paths), oldest first. */
export function definedModules(): string[] {
  return [...registry().keys()];
}

/** The definition registered in `module` under `key`. */
export function lookupDefinition(module: string, key: string): unknown {
  return registry().get(module)?.get(key);
}

/** Keys registered in `module` (for error messages). */
export function definitionsIn(module: string): string[] {
  return [...(registry().get(module)?.keys() ?? [])];
}

/** Where `value` was registered: its module and key (a scan: for rare callers, e.g. `Memory.cache`). */
export function findDefinition(value: unknown): { module: string; key: string } | undefined {
  for (const [module, inModule] of registry()) {
    for (const [key, defined] of inModule) if (defined === value) return { module, key };
  }
  return undefined;
}
