/**
 * What the chaos tests share (chaos.test.ts on 127.0.0.1, chaos-partition.test.ts on simulated
 * hosts): the DAG of 2,000 tasks and the values it must have, the calls of the four ChaosCounter
 * actors and what their replies must show, and the constants both tests run with.
 *
 * What an actor's calls must show, however its nodes died: each incarnation answered 1, 2, 3… in
 * call order (a restart starts from the constructor, and an old incarnation never answers after a
 * newer one); the only failures are ActorDiedError (calls in flight when its node died); its
 * incarnations stay within its maxRestarts.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { get, type ActorHandle, type ObjectRef } from '@weft/core';
import type { ChaosCounter, CounterReply } from '../fixtures/chaos-counter.ts';
import { LARGE_LENGTH, combine, combineValue, seed, seedValue, valueOf, type DagValue } from '../fixtures/chaos-dag.ts';

/** The fixtures folder: the drivers' working directory. */
export const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

/** The DAG: LAYERS layers of WIDTH tasks (2,000 in all). */
export const LAYERS = 20;
export const WIDTH = 100;
/** CPU time of each task, so that the DAG is still running while nodes die. */
export const SPIN_MS = 12;
/** Every task and actor runs on the killable nodes (those that offer `k`). */
export const ON_KILLABLE = { k: 0.01 };
/**
 * A task may be placed on nodes that die one after the other, and each death costs it a retry:
 * no limit, so that the tests check values rather than the retry budget.
 */
export const TASK_RETRIES = -1;
/** maxRestarts of the four actors: two without limit, one with room to spare, one that runs out. */
export const MAX_RESTARTS = [-1, -1, 10, 1] as const;
/** Between two chaos events (the chaos schedule, not a wait for a condition). */
export const CHAOS_EVERY_MS = 2_500;
/** A get that takes longer than this is a hang, reported as such. */
export const GET_TIMEOUT_MS = 60_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The DAG's refs, layer by layer, and the values they must have. */
export interface Dag {
  refs: Array<Array<ObjectRef<DagValue>>>;
  expected: number[][];
}

/** Submits the DAG: layer 0 of `seed` tasks, then layers of `combine` tasks of two refs each. */
export function submitDag(): Dag {
  const options = { resources: ON_KILLABLE, maxRetries: TASK_RETRIES };
  const refs: Array<Array<ObjectRef<DagValue>>> = [];
  const expected: number[][] = [];
  refs.push(Array.from({ length: WIDTH }, (_, i) => seed.options(options).remote(i, SPIN_MS)));
  expected.push(Array.from({ length: WIDTH }, (_, i) => seedValue(i)));
  for (let layer = 1; layer < LAYERS; layer++) {
    const prev = refs[layer - 1] as Array<ObjectRef<DagValue>>;
    const prevValues = expected[layer - 1] as number[];
    refs.push(Array.from({ length: WIDTH }, (_, j) =>
      combine.options(options).remote(prev[j] as ObjectRef<DagValue>, prev[(j + 1) % WIDTH] as ObjectRef<DagValue>, layer, j, SPIN_MS)));
    expected.push(Array.from({ length: WIDTH }, (_, j) => combineValue(prevValues[j] as number, prevValues[(j + 1) % WIDTH] as number, layer, j)));
  }
  return { refs, expected };
}

/** What one call of an actor returned, and when it was made and settled (Date.now()). */
export type Outcome = ({ ok: true; reply: CounterReply } | { ok: false; code: string; message: string }) & { at: number; done: number };

/** One call of `inc`. */
export async function call(actor: ActorHandle<ChaosCounter>): Promise<Outcome> {
  const at = Date.now();
  try {
    const reply = await get(actor.inc.remote(), { timeoutMs: GET_TIMEOUT_MS });
    return { ok: true, reply, at, done: Date.now() };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { ok: false, code: e.code ?? e.name, message: e.message, at, done: Date.now() };
  }
}

/** Calls every actor, one call each per round, until `done()`, adding to each actor's outcomes in order. */
export async function callActors(actors: Array<ActorHandle<ChaosCounter>>, outcomes: Outcome[][], done: () => boolean): Promise<Outcome[][]> {
  while (!done()) {
    const round = await Promise.all(actors.map((actor) => call(actor)));
    round.forEach((outcome, i) => outcomes[i]?.push(outcome));
    await sleep(20);
  }
  return outcomes;
}

/** Every value of the DAG, checked against what it must be. */
export async function checkDag(dag: Dag): Promise<void> {
  const values = await get(dag.refs.flat(), { timeoutMs: GET_TIMEOUT_MS });
  expect(values).toHaveLength(LAYERS * WIDTH);
  const wrong: string[] = [];
  values.forEach((value, index) => {
    const layer = Math.floor(index / WIDTH);
    const j = index % WIDTH;
    const want = dag.expected[layer]?.[j];
    if (valueOf(value) !== want) wrong.push(`layer ${layer} task ${j}: ${valueOf(value)} != ${want}`);
    if (value instanceof Float64Array && (value.length !== LARGE_LENGTH || value[LARGE_LENGTH - 1] !== want)) wrong.push(`layer ${layer} task ${j}: bad array`);
  });
  expect(wrong).toEqual([]);
}

/**
 * One actor's outcomes: each incarnation answered 1, 2, 3… in call order; failures are
 * ActorDiedError only; incarnations within maxRestarts. Returns the incarnations seen.
 */
export function checkActor(outcomes: Outcome[], maxRestarts: number, label: string): string[] {
  const incarnations: string[] = [];
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.ok) {
      expect(outcome.code, `${label}: ${outcome.message}`).toBe('ACTOR_DIED');
      continue;
    }
    const { incarnation, count } = outcome.reply;
    if (!counts.has(incarnation)) {
      // A new incarnation starts from its constructor, and an old one never answers again.
      expect(incarnations, `${label}: incarnation ${incarnation} came back`).not.toContain(incarnation);
      incarnations.push(incarnation);
    } else {
      expect(incarnations.at(-1), `${label}: an old incarnation answered after a new one`).toBe(incarnation);
    }
    const next = (counts.get(incarnation) ?? 0) + 1;
    expect(count, `${label}: call ${next} of incarnation ${incarnations.length} answered ${count}`).toBe(next);
    counts.set(incarnation, next);
  }
  if (maxRestarts >= 0) expect(incarnations.length).toBeLessThanOrEqual(maxRestarts + 1);
  return incarnations;
}

/**
 * After the chaos, one more call of each actor: one whose restarts are spent (`spent(i)`, which
 * each test decides from what it did) is dead, its last calls failing; every other one answers, and
 * was restarted at least once (every node it lived on at first died). Returns those last calls.
 */
export async function checkActorsAfter(actors: Array<ActorHandle<ChaosCounter>>, outcomes: Outcome[][], spent: (i: number) => boolean): Promise<Outcome[]> {
  const lasts: Outcome[] = [];
  for (const [i, actor] of actors.entries()) {
    const label = `actor ${i} (maxRestarts ${MAX_RESTARTS[i]})`;
    const seen = outcomes[i] as Outcome[];
    const incarnations = checkActor(seen, MAX_RESTARTS[i] as number, label);
    const last = await call(actor);
    lasts.push(last);
    if (spent(i)) {
      expect(last.ok, label).toBe(false);
      expect(seen.at(-1)?.ok, label).toBe(false);
      continue;
    }
    // Every node it lived on at first died: it was restarted at least once.
    expect(incarnations.length, label).toBeGreaterThanOrEqual(2);
    expect(last.ok, `${label}: ${last.ok ? '' : last.message}`).toBe(true);
    checkActor([...seen, last], MAX_RESTARTS[i] as number, label);
  }
  return lasts;
}
