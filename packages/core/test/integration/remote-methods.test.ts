import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Memory, get, init, remoteOf, shutdown } from '@weft/core';
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

  it('can be cached: memory.cache keys it on the method source text, and a second call runs no task', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-static-cache-'));
    try {
      const memory = new Memory(folder);
      const price = memory.cache(remoteOf(Pricing.price));
      expect(await get(price.remote({ spot: 130, strike: 100 }))).toBe(60);
      await memory.flush();
      expect(await get(price.remote({ spot: 130, strike: 100 }))).toBe(60);
      expect(await price.map([{ spot: 130, strike: 100 }, { spot: 90, strike: 100 }])).toEqual([60, 0]);
      expect(memory.stats).toEqual({ hits: 2, misses: 2 });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
