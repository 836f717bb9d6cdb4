/**
 * The candidates the worker loader tries for a path specifier, as tsx resolves them: a JavaScript
 * extension names the TypeScript file beside it (first when a TypeScript file imports it), and a
 * specifier without a known extension finds a file by extension or an index file.
 */
import { describe, expect, it } from 'vitest';
import { isPathSpecifier, isTypeScript, tsCandidates } from '../src/ts-resolution.ts';

describe('tsCandidates', () => {
  it.each([
    ['./x.js', true, { first: ['./x.ts', './x.tsx'], after: [] }],
    ['./x.js', false, { first: [], after: ['./x.ts', './x.tsx'] }],
    ['../a/x.mjs', true, { first: ['../a/x.mts'], after: [] }],
    ['./x.cjs', true, { first: ['./x.cts'], after: [] }],
    ['./x.jsx', true, { first: ['./x.tsx', './x.ts'], after: [] }],
    ['./x.js?v=1#h', true, { first: ['./x.ts?v=1#h', './x.tsx?v=1#h'], after: [] }],
    ['./x.ts', true, { first: [], after: [] }],
    ['./data.json', true, { first: [], after: [] }],
  ] as const)('%s from a TypeScript parent: %s', (specifier, parentIsTs, expected) => {
    expect(tsCandidates(specifier, parentIsTs)).toEqual(expected);
  });

  it('tries each extension, then an index file, for an extensionless specifier', () => {
    const { first, after } = tsCandidates('./util', true);
    expect(first).toEqual([]);
    expect(after.slice(0, 2)).toEqual(['./util.ts', './util.tsx']);
    expect(after).toContain('./util.js');
    expect(after).toContain('./util/index.ts');
    expect(after.indexOf('./util.cjs')).toBeLessThan(after.indexOf('./util/index.ts'));
  });

  it('treats an unknown extension as part of the name', () => {
    expect(tsCandidates('./date.utils', false).after[0]).toBe('./date.utils.ts');
  });

  it('tries only index files for a folder', () => {
    expect(tsCandidates('./lib/', false).after).toEqual(expect.arrayContaining(['./lib/index.ts', './lib/index.js']));
    expect(tsCandidates('./lib/', false).after.every((c) => c.startsWith('./lib/index.'))).toBe(true);
    expect(tsCandidates('..', false).after[0]).toBe('../index.ts');
  });
});

describe('isPathSpecifier and isTypeScript', () => {
  it.each([
    ['./a', true], ['../a', true], ['/abs/a.ts', true], ['file:///abs/a.ts', true], ['.', true],
    ['pkg', false], ['@scope/pkg/x.js', false], ['node:fs', false], ['#internal', false],
  ] as const)('%s is a path: %s', (specifier, expected) => {
    expect(isPathSpecifier(specifier)).toBe(expected);
  });

  it.each([
    ['file:///a/b.ts', true], ['/a/b.mts', true], ['/a/b.cts?x=1', true], ['/a/b.tsx#h', true],
    ['/a/b.js', false], ['/a/b.d.ts.map', false], ['/a/ts', false], ['/a.ts/b', false],
  ] as const)('%s is TypeScript: %s', (url, expected) => {
    expect(isTypeScript(url)).toBe(expected);
  });
});
