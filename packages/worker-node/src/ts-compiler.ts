/**
 * The node's TypeScript compiler for its workers' loaders (ts-hooks.ts): one esbuild service for
 * every worker of the node, and one compilation of each file while it is unchanged (cached by
 * path, modification time and size), where each worker used to start its own tsx and esbuild and
 * compile the user's modules again. esbuild is imported at the first TypeScript file, so a node
 * whose jobs are JavaScript never starts it, unless {@link expectsTypeScript} says to start it
 * early (beside the workers' start, not after the first task asked).
 *
 * esbuild compiles each file as tsx does (types stripped, decorators lowered, the file's nearest
 * tsconfig.json read for `experimentalDecorators`, `jsx` and the like), with an inline source map
 * so that stacks name the user's lines.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { tsFormat } from './ts-format.ts';
import { isTypeScript } from './ts-resolution.ts';

/** A worker's hooks ask for one file. */
export interface CompileRequest {
  id: number;
  /** Absolute path of a .ts, .tsx, .mts or .cts file. */
  file: string;
  /** How the worker will evaluate it. */
  format: 'module' | 'commonjs';
}

/** The answer, by the request's id. */
export type CompileReply = { id: number; status: 'ok'; code: string } | { id: number; status: 'error'; message: string };

/** What compiles one file (esbuild in production; tests give their own). */
export type CompileFile = (file: string, format: 'module' | 'commonjs') => Promise<string>;

interface Entry {
  mtimeMs: number;
  size: number;
  format: 'module' | 'commonjs';
  code: Promise<string>;
}

export class TsCompiler {
  readonly #compileFile: CompileFile;
  readonly #cache = new Map<string, Entry>();
  readonly #ports = new Set<MessagePort>();

  constructor(compileFile: CompileFile = compileWithEsbuild) {
    this.#compileFile = compileFile;
  }

  /** Answer the requests that come on `port` (one worker's hooks) until it closes. */
  serve(port: MessagePort): void {
    this.#ports.add(port);
    port.on('message', (request: CompileRequest) => {
      // Only the worker's hooks hold the port's other end; a malformed request is dropped, not thrown in the node.
      if (typeof request?.id !== 'number' || typeof request.file !== 'string' || (request.format !== 'module' && request.format !== 'commonjs')) return;
      this.compile(request.file, request.format).then(
        (code) => port.postMessage({ id: request.id, status: 'ok', code } satisfies CompileReply),
        (error: unknown) => port.postMessage({ id: request.id, status: 'error', message: messageOf(error, request.file) } satisfies CompileReply),
      );
    });
    port.on('close', () => this.#ports.delete(port));
    port.unref(); // a worker's port never keeps the node's process alive
  }

  /** The JavaScript of `file`, compiled once while its modification time and size stay. */
  async compile(file: string, format: 'module' | 'commonjs'): Promise<string> {
    const { mtimeMs, size } = await stat(file);
    const cached = this.#cache.get(file);
    if (cached && cached.mtimeMs === mtimeMs && cached.size === size && cached.format === format) return cached.code;
    const code = this.#compileFile(file, format);
    const entry: Entry = { mtimeMs, size, format, code };
    this.#cache.set(file, entry);
    // A failed compilation is not kept: the next import tries again (the file may be fixed by then).
    code.catch(() => {
      if (this.#cache.get(file) === entry) this.#cache.delete(file);
    });
    return code;
  }

  /**
   * Compile `files` now, those that are TypeScript, in the format the workers' hooks will ask for,
   * so that a worker's first import of one finds it compiled (~16 ms of the first task's start,
   * spent while the workers start). Failures wait for a real import to report them.
   */
  precompile(files: readonly string[]): void {
    for (const file of files) if (isTypeScript(file)) this.compile(file, tsFormat(file)).catch(() => {});
  }

  /** Load esbuild and start its service now, so that the first module compiles without waiting for them. */
  warmUp(): void {
    void loadEsbuild().then(({ transform }) => transform('')).catch(() => {}); // a real compile reports the error
  }

  /** Close every worker's port and forget the cache. */
  close(): void {
    for (const port of this.#ports) port.close();
    this.#ports.clear();
    this.#cache.clear();
  }
}

/**
 * Whether a node's jobs are likely TypeScript, to start esbuild early: the driver's main script
 * is TypeScript (the embedded node), or its working directory has a tsconfig.json.
 */
export function expectsTypeScript(workingDir: string, mainScript: string | undefined = process.argv[1]): boolean {
  return (mainScript !== undefined && /\.(?:[cm]?ts|tsx)$/.test(mainScript)) || existsSync(path.join(workingDir, 'tsconfig.json'));
}

let esbuild: typeof import('esbuild') | undefined;

/** esbuild, required: its CommonJS through import() (the ESM loader and its lexer) took 4 times as long. */
async function loadEsbuild(): Promise<typeof import('esbuild')> {
  esbuild ??= createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return esbuild;
}

/** esbuild's build of one file, not bundled: its own tsconfig.json is found as it would be for a build. */
async function compileWithEsbuild(file: string, format: 'module' | 'commonjs'): Promise<string> {
  const { build } = await loadEsbuild();
  const result = await build({
    // Output beside the input, so that the source map names the file by its own name.
    entryPoints: [file], bundle: false, write: false, outdir: path.dirname(file), absWorkingDir: path.dirname(file),
    format: format === 'module' ? 'esm' : 'cjs', platform: 'node', target: `node${process.versions.node}`,
    // keepNames as tsx has it: a build renames a function that shadows a top-level name
    // (`const tiny = remote(function tiny …)`), and workers find remote functions by name.
    sourcemap: 'inline', sourcesContent: false, keepNames: true, logLevel: 'silent', charset: 'utf8',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${file}`);
  return output.text;
}

/** What went wrong, each esbuild error at its place (`/abs/file.ts:2:13: Expected …`). */
function messageOf(error: unknown, file: string): string {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] } | null)?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const at = (location: { file: string; line: number; column: number }): string =>
      `${path.resolve(path.dirname(file), location.file)}:${location.line}:${location.column}`;
    return errors.map((e) => (e.location ? `${at(e.location)}: ${e.text}` : e.text)).join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}
