import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, remoteOf, shutdown } from '@weft/core';
import { Pricing } from '../fixtures/pricing.ts';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

describe('@remote on a static method', () => {
  it('makes it a remote function that workers find as Class.method, bound to its class', async () => {
    const price = remoteOf(Pricing.price);
    expect(await get(price.remote({ spot: 110, strike: 100 }))).toBe(20);
    expect(price.remoteName).toBe('Pricing.price');
    expect(await get(remoteOf(Pricing.where).remote())).not.toBe('not in a task');
  });

  it('offers map and options like any remote function', async () => {
    const grid = Array.from({ length: 50 }, (_, i) => ({ spot: 100 + i, strike: 120 }));
    expect(await remoteOf(Pricing.price).map(grid)).toEqual(grid.map((p) => Math.max(0, p.spot - p.strike) * 2));
    expect(await get(remoteOf(Pricing.price).options({ numCpus: 0.5 }).remote({ spot: 1, strike: 0 }))).toBe(2);
  });

  it('still runs here when called directly', () => {
    expect(Pricing.price({ spot: 5, strike: 1 })).toBe(8);
  });

  it('refuses instance methods, and remoteOf refuses plain functions', async () => {
    expect(() => remoteOf(() => 1)).toThrow(/remoteOf\(\) takes a remote function/);
    const { remote } = await import('@weft/core');
    expect(() => {
      class Bad {
        @remote()
        method(): number { return 1; }
      }
      return Bad;
    }).toThrow(/static methods only/);
  });
});
