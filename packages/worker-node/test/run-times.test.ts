/** RunTimes: a function is tiny after 4 runs under 1 ms on average; functions are told apart by module and name. */
import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '@weft/protocol';
import { RunTimes } from '../src/run-times.ts';

const spec = (module: string, name: string): TaskSpec => ({ fn: { module, name } }) as unknown as TaskSpec;

describe('RunTimes', () => {
  it('judges a function tiny after 4 fast runs, and not once it slows', () => {
    const times = new RunTimes();
    const f = spec('tasks.ts', 'f');
    expect(times.isTiny(f)).toBe(false);
    expect(times.isUnder(f, 10)).toBe(false);
    for (let i = 0; i < 3; i++) times.record(f, 0.1);
    expect(times.isTiny(f)).toBe(false);
    times.record(f, 0.1);
    expect(times.isTiny(f)).toBe(true);
    expect(times.isUnder(f, 10)).toBe(true);
    for (let i = 0; i < 30; i++) times.record(f, 50);
    expect(times.isTiny(f)).toBe(false);
    expect(times.isUnder(f, 10)).toBe(false);
  });

  it('keeps functions of the same name in different modules apart, and names that would join alike', () => {
    const times = new RunTimes();
    for (let i = 0; i < 4; i++) times.record(spec('a.ts', 'f'), 0.1);
    expect(times.isTiny(spec('b.ts', 'f'))).toBe(false);
    for (let i = 0; i < 4; i++) times.record(spec('m#x', 'y'), 0.1);
    expect(times.isTiny(spec('m', 'x#y'))).toBe(false);
  });
});
