import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { postMalformed } from '../fixtures/malformed-port-messages.ts';

const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => {
  uncaught.push(error);
};

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  process.off('uncaughtException', onUncaught);
});

describe('a worker that posts malformed messages', () => {
  it('has them dropped by its node, which goes on running tasks', async () => {
    expect(await get(postMalformed.remote())).toBe('posted');
    expect(await get([add.remote(1, 2), add.remote(3, 4)])).toEqual([3, 7]);
    expect(await get(postMalformed.remote())).toBe('posted');
    expect(await get(add.remote(5, 6))).toBe(11);
    expect(uncaught).toEqual([]);
  });
});
