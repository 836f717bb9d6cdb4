import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDiedError, get, init, kill, shutdown } from '@weft/core';
import { attemptsIn } from '../fixtures/attempts.ts';
import { Counter } from '../fixtures/counter-actor.ts';
import { Broken } from '../fixtures/counter-actor.ts';
import { Gathering } from '../fixtures/overlap-actors.ts';
import { Incarnation } from '../fixtures/restart-actor.ts';
import { rejectionOf, timedRejectionOf } from '../support/outcome.ts';

// "At once": a dead actor's calls fail from the node's record, with no worker involved.
const AT_ONCE_MS = 1_000;

let tmp: string;
let files = 0;
const incarnationFile = (): string => path.join(tmp, `incarnations-${++files}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-actor-lifecycle-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

function expectActorDied(error: Error & { code?: string }): void {
  expect(error).toBeInstanceOf(ActorDiedError);
  expect(error.code).toBe('ACTOR_DIED');
}

describe('an actor whose worker dies', () => {
  it('is restarted with its constructor re-run, and the call in flight fails with ActorDiedError', async () => {
    const c = Counter.options({ maxRestarts: 1 }).remote(5);
    expect(await get(c.inc.remote(2))).toBe(7);
    const error = await rejectionOf(get(c.crash.remote()));
    expectActorDied(error);
    expect(error.message).toContain('Counter.crash');
    // The state is the constructor's again, and the actor works.
    expect(await get(c.value.remote())).toBe(5);
    expect(await get(c.inc.remote(1))).toBe(6);
  });

  it('is dead after maxRestarts restarts, and later calls fail with ActorDiedError at once', async () => {
    const c = Counter.options({ maxRestarts: 1 }).remote(5);
    expectActorDied(await rejectionOf(get(c.crash.remote())));
    expect(await get(c.value.remote())).toBe(5);
    expectActorDied(await rejectionOf(get(c.crash.remote())));
    const { error, ms } = await timedRejectionOf(get(c.value.remote()));
    expectActorDied(error);
    expect(error.message).toContain('maxRestarts');
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('is not restarted by default (maxRestarts 0)', async () => {
    const c = Counter.remote(1);
    expectActorDied(await rejectionOf(get(c.crash.remote())));
    const { error, ms } = await timedRejectionOf(get(c.value.remote()));
    expectActorDied(error);
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('retries the call in flight on the restarted actor when maxTaskRetries allows', async () => {
    const file = incarnationFile();
    const a = Incarnation.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(file);
    // The first incarnation dies running the call; the second runs it again and answers.
    expect(await get(a.crashOnFirst.remote())).toBe(2);
    expect(attemptsIn(file)).toBe(2);
    expect(await get(a.which.remote())).toBe(2);
  });

  it('does not retry the call in flight by default, though the actor restarts', async () => {
    const file = incarnationFile();
    const a = Incarnation.options({ maxRestarts: 1 }).remote(file);
    expectActorDied(await rejectionOf(get(a.crashOnFirst.remote())));
    expect(await get(a.crashOnFirst.remote())).toBe(2);
    expect(attemptsIn(file)).toBe(2);
  });
});

describe('an actor whose constructor throws', () => {
  it('is dead for good, and every call fails with ActorDiedError carrying the constructor message', async () => {
    const b = Broken.remote();
    const errors = await Promise.all([rejectionOf(get(b.ping.remote())), rejectionOf(get(b.ping.remote()))]);
    for (const error of errors) {
      expectActorDied(error);
      expect(error.message).toContain('cannot build this');
    }
    const { error, ms } = await timedRejectionOf(get(b.ping.remote()));
    expectActorDied(error);
    expect(error.message).toContain('cannot build this');
    expect(ms).toBeLessThan(AT_ONCE_MS);
  });

  it('is not restarted even when maxRestarts allows', async () => {
    const b = Broken.options({ maxRestarts: 3 }).remote();
    const error = await rejectionOf(get(b.ping.remote()));
    expectActorDied(error);
    expect(error.message).toContain('cannot build this');
  });
});

describe('kill', () => {
  it('ends the actor: calls in flight and calls after it fail with ActorDiedError at once', async () => {
    const a = Gathering.remote();
    expect(await get(a.peakSeen.remote())).toBe(0);
    // Waits for a second call that never comes: still running when the kill arrives.
    const inFlight = a.gather.remote(2, 0, 30_000);
    await kill(a);
    const killed = await timedRejectionOf(get(inFlight));
    expectActorDied(killed.error);
    expect(killed.ms).toBeLessThan(AT_ONCE_MS);
    const after = await timedRejectionOf(get(a.peakSeen.remote()));
    expectActorDied(after.error);
    expect(after.error.message).toContain('kill');
    expect(after.ms).toBeLessThan(AT_ONCE_MS);
  });

  it('does not restart a killed actor, whatever its maxRestarts', async () => {
    const c = Counter.options({ maxRestarts: 5 }).remote(1);
    expect(await get(c.value.remote())).toBe(1);
    await kill(c);
    expectActorDied(await rejectionOf(get(c.value.remote())));
  });

  it('is harmless on an actor that is dead already', async () => {
    const c = Counter.remote();
    await kill(c);
    await expect(kill(c)).resolves.toBeUndefined();
  });
});
