import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDiedError, get, init, kill, shutdown, wait } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { Counter } from '../fixtures/counter-actor.ts';
import { meet } from '../fixtures/rendezvous.ts';
import { rejectionOf } from '../support/outcome.ts';

// How long a pending ref is watched to show that it stays pending: a task on a free CPU of this
// cluster finishes in a few ms, so it would be ready well within this.
const STILL_PENDING_MS = 300;

let tmp: string;
let dirs = 0;
const meetingDir = (): string => {
  const dir = path.join(tmp, `meet-${++dirs}`);
  mkdirSync(dir);
  return dir;
};

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-actor-resources-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('resources held by actors (2-CPU cluster)', () => {
  it('lets tasks run beside default actors, which hold no CPU while alive', async () => {
    const actors = Array.from({ length: 4 }, (_, i) => Counter.remote(i));
    expect(await get(actors.map((c) => c.value.remote()))).toEqual([0, 1, 2, 3]);
    expect(await get(Array.from({ length: 10 }, (_, i) => add.remote(i, i)))).toEqual(Array.from({ length: 10 }, (_, i) => 2 * i));
    // Both CPUs are free for tasks at once: two tasks meet.
    const dir = meetingDir();
    expect(await get([meet.remote(dir, 'a', 2, 10_000), meet.remote(dir, 'b', 2, 10_000)])).toEqual([2, 2]);
    expect(await get(actors.map((c) => c.inc.remote(10)))).toEqual([10, 11, 12, 13]);
    await Promise.all(actors.map((c) => kill(c)));
  });

  it('keeps a task waiting while an actor holds both CPUs, and runs it once the actor is killed', async () => {
    const big = Counter.options({ numCpus: 2 }).remote(1);
    expect(await get(big.value.remote())).toBe(1);
    const task = add.remote(1, 2);
    const { ready, pending } = await wait([task], { timeoutMs: STILL_PENDING_MS });
    expect(ready).toHaveLength(0);
    expect(pending).toEqual([task]);
    // The actor itself still answers: it holds the CPUs, its calls need none.
    expect(await get(big.inc.remote(1))).toBe(2);
    await kill(big);
    expect(await get(task)).toBe(3);
  });

  it('places an actor that needs CPUs held by another only once they are freed', async () => {
    const first = Counter.options({ numCpus: 2 }).remote(1);
    expect(await get(first.value.remote())).toBe(1);
    const second = Counter.options({ numCpus: 2 }).remote(2);
    const call = second.value.remote();
    expect((await wait([call], { timeoutMs: STILL_PENDING_MS })).pending).toEqual([call]);
    await kill(first);
    expect(await get(call)).toBe(2);
    await kill(second);
  });

  it('fails the calls of an actor that needs more CPUs than the cluster has with ActorDiedError', async () => {
    const huge = Counter.options({ numCpus: 3 }).remote();
    const error = await rejectionOf(get(huge.value.remote()));
    expect(error).toBeInstanceOf(ActorDiedError);
    expect(error.message).toMatch(/CPU/);
  });

  it('gives the CPUs of a killed actor back to tasks: both run at once again', async () => {
    const big = Counter.options({ numCpus: 2 }).remote();
    expect(await get(big.value.remote())).toBe(0);
    await kill(big);
    const dir = meetingDir();
    expect(await get([meet.remote(dir, 'a', 2, 10_000), meet.remote(dir, 'b', 2, 10_000)])).toEqual([2, 2]);
  });
});
