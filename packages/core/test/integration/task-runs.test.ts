/**
 * Runs of tiny tasks through real workers: consecutive tasks of one function go to a worker as one
 * message and their results come back as one (port-runs.ts), and a loaded function that returns a
 * value ends in the turn it starts. What a user sees must not change: every value, in order, with
 * errors, values holding refs, large arguments, async functions and actor calls mixed in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, kill, shutdown, type ObjectRef } from '@weft/core';
import { Tally, boxed, echo, evenOnly, later, twice } from '../fixtures/run-tasks.ts';

beforeAll(async () => {
  await init({ numCpus: 2 });
  // Warm: the functions' run times make them tiny in the node's eyes (sent ahead in batches).
  await get(Array.from({ length: 300 }, (_, i) => twice.remote(i)));
  await get(Array.from({ length: 300 }, (_, i) => echo.remote(i)));
});
afterAll(async () => {
  await shutdown();
});

describe('runs of tiny tasks', () => {
  it('return every value in order, for bursts that interleave functions and argument sizes', async () => {
    const big = 'x'.repeat(400);
    const refs: Array<ObjectRef<unknown>> = [];
    const expected: unknown[] = [];
    for (let i = 0; i < 6_000; i++) {
      if (i % 7 === 3) {
        refs.push(echo.remote(`${big}${i}`));
        expected.push(`${big}${i}`);
      } else if (i % 5 === 0) {
        refs.push(echo.remote({ i, list: [i, i + 1], when: new Date(i) }));
        expected.push({ i, list: [i, i + 1], when: new Date(i) });
      } else {
        refs.push(twice.remote(i));
        expected.push(i * 2);
      }
    }
    expect(await get(refs)).toEqual(expected);
  });

  it('keep errors with their tasks, and values holding refs and async results among them', async () => {
    const errors = await Promise.all(Array.from({ length: 200 }, (_, i) => get(evenOnly.remote(i)).then((v) => v, (e: Error) => `${e.name}: ${e.message}`)));
    errors.forEach((outcome, i) => {
      if (i % 2 === 0) expect(outcome).toBe(i);
      else expect(outcome).toMatch(new RegExp(`odd: ${i}`));
    });
    const boxes = await get(Array.from({ length: 100 }, (_, i) => boxed.remote(i)));
    expect(await get(boxes.map((box) => box.ref))).toEqual(Array.from({ length: 100 }, (_, i) => i * 10));
    expect(await get(Array.from({ length: 300 }, (_, i) => later.remote(i)))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  });

  it('give an actor its calls in order, two methods interleaved', async () => {
    const tally = Tally.remote();
    try {
      const refs: Array<ObjectRef<number | string>> = [];
      for (let i = 1; i <= 3_000; i++) refs.push(i % 10 === 0 ? tally.label.remote(i) : tally.add.remote(1));
      const values = await get(refs);
      let total = 0;
      values.forEach((value, k) => {
        const i = k + 1;
        if (i % 10 === 0) expect(value).toBe(`#${i}:${total}`);
        else expect(value).toBe((total += 1));
      });
    } finally {
      await kill(tally);
    }
  });
});
