/**
 * Module hooks of a worker (`module.register`, run on Node's hooks thread): TypeScript files are
 * compiled by the node's one compiler (ts-compiler.ts), asked over the port the node gave this
 * worker; everything else loads as Node loads it. Resolution adds what tsx resolves and Node does
 * not (ts-resolution.ts). This file imports builtins only: a hooks thread starts per worker, and
 * what it loads is start-up time.
 */
import type { MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { isPathSpecifier, isTypeScript, tsCandidates } from './ts-resolution.ts';
import { tsFormat, type Format } from './ts-format.ts';
import type { CompileReply, CompileRequest } from './ts-compiler.ts';

interface ResolveContext { parentURL?: string; conditions: string[] }
interface Resolved { url: string; format?: string | null; shortCircuit?: boolean }
type NextResolve = (specifier: string, context: ResolveContext) => Promise<Resolved>;
interface Loaded { format: string; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean }
type NextLoad = (url: string, context: { format?: string | null }) => Promise<Loaded>;

let port: MessagePort | undefined;
let nextId = 0;
const pending = new Map<number, { resolve(code: string): void; reject(error: Error): void }>();

/** Called by module.register with the port to the node's compiler. */
export function initialize(data: { port: MessagePort }): void {
  port = data.port;
  port.on('message', (reply: CompileReply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (pending.size === 0) port?.unref();
    if (reply.status === 'ok') waiter.resolve(reply.code);
    else waiter.reject(Object.assign(new Error(reply.message), { code: 'ERR_WEFT_TS_COMPILE' }));
  });
  port.unref();
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<Resolved> {
  const parent = context.parentURL;
  if (!isPathSpecifier(specifier) || (!parent?.startsWith('file:') && !specifier.startsWith('file:') && !specifier.startsWith('/'))) {
    return next(specifier, context);
  }
  const { first, after } = tsCandidates(specifier, parent !== undefined && isTypeScript(parent));
  for (const candidate of first) {
    const found = await attempt(candidate, context, next);
    if (found) return found;
  }
  try {
    return await next(specifier, context);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    for (const candidate of after) {
      const found = await attempt(candidate, context, next);
      if (found) return found;
    }
    throw error;
  }
}

export async function load(url: string, context: { format?: string | null }, next: NextLoad): Promise<Loaded> {
  if (!url.startsWith('file:') || !isTypeScript(url)) return next(url, context);
  const file = fileURLToPath(url);
  const format = tsFormat(file);
  return { format, source: await compile(file, format), shortCircuit: true };
}

/** The candidate resolved, or undefined when there is no such file. */
async function attempt(specifier: string, context: ResolveContext, next: NextResolve): Promise<Resolved | undefined> {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_UNSUPPORTED_DIR_IMPORT';
}

function compile(file: string, format: Format): Promise<string> {
  if (!port) return Promise.reject(new Error(`cannot compile ${file}: the worker's TypeScript loader has no compiler`));
  const id = nextId++;
  const request: CompileRequest = { id, file, format };
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    port?.ref(); // the hooks thread waits for the reply
    port?.postMessage(request);
  });
}

