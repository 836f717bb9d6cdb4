import { describe, expect, it } from 'vitest';
import { amountOf, fits, give, sumOf, take } from '../src/resource-set.ts';

describe('resource sets', () => {
  it('checks, takes, gives and sums amounts by name', () => {
    const available = { CPU: 2, gpu: 1 };
    expect(fits({ CPU: 2 }, available)).toBe(true);
    expect(fits({ CPU: 1, gpu: 2 }, available)).toBe(false);
    expect(fits({ tpu: 0 }, available)).toBe(true);
    take(available, { CPU: 1.5 });
    expect(fits({ CPU: 1 }, available)).toBe(false);
    give(available, { CPU: 1.5, tpu: 1 });
    expect(available).toEqual({ CPU: 2, gpu: 1, tpu: 1 });
    expect(sumOf([{ CPU: 1 }, { CPU: 2, gpu: 1 }])).toEqual({ CPU: 3, gpu: 1 });
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'])(
    'never finds a resource named %s through the prototype, and keeps objects intact', (name) => {
      const need = JSON.parse(`{"${name}": 1}`) as Record<string, number>;
      const have = { CPU: 8 };
      expect(amountOf(have, name)).toBe(0);
      expect(fits(need, have)).toBe(false);
      expect(fits(need, JSON.parse(`{"${name}": 1, "CPU": 1}`) as Record<string, number>)).toBe(true);
      take(have, need);
      expect(Object.getPrototypeOf(have)).toBe(Object.prototype);
      expect(amountOf(have, name)).toBe(-1);
      give(have, need);
      expect(amountOf(have, name)).toBe(0);
      const totals = sumOf([need, need, { CPU: 1 }]);
      expect(Object.getPrototypeOf(totals)).toBe(Object.prototype);
      expect(amountOf(totals, name)).toBe(2);
      expect(totals.CPU).toBe(1);
    });
});
