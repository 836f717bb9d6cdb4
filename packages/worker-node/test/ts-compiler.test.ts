/**
 * The node's TypeScript compiler for its workers, with a fake compile in place of esbuild: one
 * compilation per file while it is unchanged, shared by concurrent requests; another once it
 * changes; a failure not kept; and replies on a worker's port by request id.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TsCompiler, expectsTypeScript, type CompileReply } from '../src/ts-compiler.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'weft-ts-compiler-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function counting(): { compile: (file: string, format: string) => Promise<string>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    compile: async (file, format) => {
      calls.push(`${path.basename(file)}:${format}`);
      return `// ${format} ${calls.length}`;
    },
  };
}

describe('TsCompiler', () => {
  it('compiles ahead the TypeScript files it is given, in their package scope\'s format, for the workers\' first imports', async () => {
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const files = ['tasks.ts', 'old.cts', 'plain.js', 'view.tsx'].map((name) => path.join(dir, name));
    for (const file of files) writeFileSync(file, 'export const a = 1;');
    const fake = counting();
    const compiler = new TsCompiler(fake.compile);
    compiler.precompile([...files, path.join(dir, 'missing.ts')]);
    // What a worker's hooks then ask for is the compilation already made (or under way).
    await compiler.compile(files[0]!, 'module');
    await compiler.compile(files[1]!, 'commonjs');
    await compiler.compile(files[3]!, 'module');
    expect(fake.calls.sort()).toEqual(['old.cts:commonjs', 'tasks.ts:module', 'view.tsx:module']);
  });

  it('compiles a file once for every worker while it is unchanged', async () => {
    const file = path.join(dir, 'a.ts');
    writeFileSync(file, 'export const a = 1;');
    const fake = counting();
    const compiler = new TsCompiler(fake.compile);
    const codes = await Promise.all([compiler.compile(file, 'module'), compiler.compile(file, 'module'), compiler.compile(file, 'module')]);
    expect(new Set(codes).size).toBe(1);
    expect(fake.calls).toEqual(['a.ts:module']);
  });

  it('compiles again once the file changes, or for another format', async () => {
    const file = path.join(dir, 'a.ts');
    writeFileSync(file, 'export const a = 1;');
    const fake = counting();
    const compiler = new TsCompiler(fake.compile);
    await compiler.compile(file, 'module');
    const later = new Date(Date.now() + 10_000);
    utimesSync(file, later, later);
    await compiler.compile(file, 'module');
    writeFileSync(file, 'export const a = 12;'); // same second, other size
    utimesSync(file, later, later);
    await compiler.compile(file, 'module');
    await compiler.compile(file, 'commonjs');
    expect(fake.calls).toEqual(['a.ts:module', 'a.ts:module', 'a.ts:module', 'a.ts:commonjs']);
  });

  it('does not keep a failed compilation', async () => {
    const file = path.join(dir, 'bad.ts');
    writeFileSync(file, 'export const = ;');
    let fail = true;
    const compiler = new TsCompiler(async () => {
      if (fail) throw new Error('Expected identifier');
      return '// fixed';
    });
    await expect(compiler.compile(file, 'module')).rejects.toThrow('Expected identifier');
    fail = false;
    await expect(compiler.compile(file, 'module')).resolves.toBe('// fixed');
  });

  it('answers a worker\'s requests on its port by id, errors included, and drops malformed ones', async () => {
    const file = path.join(dir, 'a.ts');
    writeFileSync(file, 'export const a = 1;');
    const compiler = new TsCompiler(async (f) => `// ${path.basename(f)}`);
    const { port1, port2 } = new MessageChannel();
    compiler.serve(port1);
    const replies: CompileReply[] = [];
    const done = new Promise<void>((resolve) => {
      port2.on('message', (reply: CompileReply) => {
        replies.push(reply);
        if (replies.length === 2) resolve();
      });
    });
    port2.postMessage(null); // malformed requests are dropped, not thrown in the node
    port2.postMessage({ id: 6, file: 42, format: 'module' });
    port2.postMessage({ id: 7, file, format: 'module' });
    port2.postMessage({ id: 8, file: path.join(dir, 'missing.ts'), format: 'module' });
    await done;
    port2.close();
    compiler.close();
    expect(replies.find((r) => r.id === 7)).toEqual({ id: 7, status: 'ok', code: '// a.ts' });
    expect(replies.map((r) => r.id).sort()).toEqual([7, 8]);
    expect(replies.find((r) => r.id === 8)).toMatchObject({ id: 8, status: 'error', message: expect.stringContaining('missing.ts') });
  });
});

describe('expectsTypeScript', () => {
  it('expects TypeScript from a TypeScript main script or a tsconfig.json in the working directory', () => {
    expect(expectsTypeScript(dir, '/app/main.ts')).toBe(true);
    expect(expectsTypeScript(dir, '/app/main.mts')).toBe(true);
    expect(expectsTypeScript(dir, '/app/main.js')).toBe(false);
    expect(expectsTypeScript(dir, undefined)).toBe(false);
    writeFileSync(path.join(dir, 'tsconfig.json'), '{}');
    expect(expectsTypeScript(dir, '/app/main.js')).toBe(true);
  });
});
