import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBytes, parsePort, parsePositiveInt, parseResources } from '../src/options.ts';
import { recordedNames, reserveNodeName, writePid } from '../src/session.ts';
import { wsUrl } from '../src/start-options.ts';
import { bytes, table } from '../src/table.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-cli-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('option parsers', () => {
  it('reads --resources as a JSON object of non-negative amounts', () => {
    expect(parseResources('{"gpu":1,"mem":0.5}')).toEqual({ gpu: 1, mem: 0.5 });
    expect(() => parseResources('{gpu:1}')).toThrow(InvalidArgumentError);
    expect(() => parseResources('[1]')).toThrow(/JSON object/);
    expect(() => parseResources('{"gpu":-1}')).toThrow(/"gpu" must be a number ≥ 0/);
    expect(() => parseResources('{"CPU":2}')).toThrow(/--num-cpus/);
  });

  it('reads --object-store-memory as bytes, with or without a unit', () => {
    expect(parseBytes('2000000000')).toBe(2e9);
    expect(parseBytes('500MB')).toBe(5e8);
    expect(parseBytes('1.5gb')).toBe(1.5e9);
    expect(parseBytes('2GiB')).toBe(2 * 1024 ** 3);
    for (const bad of ['0', '-5', 'lots', '5XB', '']) expect(() => parseBytes(bad)).toThrow(InvalidArgumentError);
  });

  it('accepts ports from 0 to 65535 and whole CPU counts from 1', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('7350')).toBe(7350);
    expect(() => parsePort('65536')).toThrow(InvalidArgumentError);
    expect(() => parsePort('80a')).toThrow(InvalidArgumentError);
    expect(parsePositiveInt('4')).toBe(4);
    expect(() => parsePositiveInt('0')).toThrow(InvalidArgumentError);
    expect(() => parsePositiveInt('1.5')).toThrow(InvalidArgumentError);
  });

  it('turns what a user types for --address into a ws URL', () => {
    expect(wsUrl('10.0.0.5:7350')).toBe('ws://10.0.0.5:7350');
    expect(wsUrl('ws://10.0.0.5:7350')).toBe('ws://10.0.0.5:7350');
    expect(wsUrl('https://head.example:7350')).toBe('wss://head.example:7350');
    expect(() => wsUrl('ftp://head:7350')).toThrow(/expected ws:\/\/HOST:PORT/);
  });
});

describe('session files', () => {
  it('gives concurrent nodes distinct names and lists nodes before the head', () => {
    expect(reserveNodeName(dir)).toBe('node-1');
    expect(reserveNodeName(dir)).toBe('node-2');
    writePid(dir, 'head', 42);
    writeFileSync(path.join(dir, 'node-10.pid'), '7\n');
    expect(recordedNames(dir)).toEqual(['node-1', 'node-2', 'node-10', 'head']);
    expect(readFileSync(path.join(dir, 'head.pid'), 'utf8')).toBe('42\n');
  });
});

describe('tables', () => {
  it('pads every column but the last to its widest cell', () => {
    const rows = [{ a: 'x', b: 'long value' }, { a: 'longer', b: 'y' }];
    expect(table([{ header: 'A', cell: (row: { a: string }) => row.a }, { header: 'B', cell: (row: { b: string }) => row.b }], rows))
      .toBe('A       B\nx       long value\nlonger  y');
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536 * 1024)).toBe('1.5 MiB');
  });
});
