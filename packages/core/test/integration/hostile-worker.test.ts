import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError, get, init, shutdown } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { postMalformed, throwOddError } from '../fixtures/malformed-port-messages.ts';

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

  it('reports an error whose name and message are not strings as a TaskError, instead of a result the node drops', async () => {
    const error = await get(throwOddError.remote()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toContain('threw 5: [object Object]');
    expect(uncaught).toEqual([]);
  });
});
