/**
 * The fixtures of counter-actor.ts, `@remote(...)` class decorator included.
 *
 * Today this file fails to load under vitest: Vite 8 transforms with Oxc, which does not lower
 * TC39 decorators, so Node meets the raw `@remote(...)` in counter-actor.ts and throws
 * "SyntaxError: Invalid or unexpected token" (oxc-project/oxc#9170). It passes once the vitest
 * config lowers decorators (e.g. @rolldown/plugin-babel with @babel/plugin-proposal-decorators).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDiedError, get, init, shutdown } from '@weft/core';
import { Counter, Decorated, Overlap, incThrough } from '../fixtures/counter-actor.ts';
import { rejectionOf } from '../support/outcome.ts';

beforeAll(async () => {
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
});

describe('the @remote class decorator and the counter-actor fixtures', () => {
  it('uses the options of @remote({ maxRestarts: 1 }) as the class defaults', async () => {
    const d = Decorated.remote();
    const before = await get(d.id.remote());
    expect(await rejectionOf(get(d.crash.remote()))).toBeInstanceOf(ActorDiedError);
    // Restarted once: the constructor ran again.
    const after = await get(d.id.remote());
    expect(after).not.toBe(before);
    expect(await rejectionOf(get(d.crash.remote()))).toBeInstanceOf(ActorDiedError);
    expect(await rejectionOf(get(d.id.remote()))).toBeInstanceOf(ActorDiedError);
  });

  it('lets options() override the defaults of the decorator', async () => {
    const d = Decorated.options({ maxRestarts: 0 }).remote();
    expect(await rejectionOf(get(d.crash.remote()))).toBeInstanceOf(ActorDiedError);
    expect(await rejectionOf(get(d.id.remote()))).toBeInstanceOf(ActorDiedError);
  });

  it('runs the Counter of counter-actor.ts and incThrough against it', async () => {
    const c = Counter.remote(5);
    expect(await get(c.inc.remote(2))).toBe(7);
    expect(await get(incThrough.remote(c, 3))).toBe(10);
  });

  it('overlaps the async calls of Overlap by default', async () => {
    const o = Overlap.remote();
    await get(Array.from({ length: 4 }, () => o.work.remote(200)));
    expect(await get(o.maxSeen.remote())).toBeGreaterThan(1);
  });
});
