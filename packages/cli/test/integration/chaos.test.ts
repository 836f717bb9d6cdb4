/**
 * Chaos (issue 5, part 6): a real cluster started through the `weft` CLI — a head (with its node)
 * and three nodes — runs a DAG of 2,000 tasks and calls 4 actors while nodes are killed with
 * SIGKILL and replaced, and, in the second test, while the head itself is killed and started
 * again. The driver (this process) joins through a node that is never killed.
 *
 * Layout: node `stable` (resource `stable`) serves the driver; two killable nodes (resource `k`)
 * run every task and actor, which all ask for a little `k`; the node beside the head has neither,
 * so nothing of the workload lives in the head's process. Every few seconds the oldest killable
 * node is killed and a new one started, so every node that held work at the start dies.
 *
 * What must hold at the end: every task's value is there and correct (tasks are retried on other
 * nodes, lost results rebuilt from lineage); each actor incarnation answered its calls 1, 2, 3…
 * in order (a restart starts from the constructor, calls in flight at a death fail with
 * ActorDiedError and only they); an actor's incarnations stay within its maxRestarts, and the one
 * whose restarts run out is dead, its calls failing; no process is left running.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { get, init, shutdown, type ActorHandle, type ObjectRef } from '@weft/core';
import { ChaosCounter, type CounterReply } from '../fixtures/chaos-counter.ts';
import { LARGE_LENGTH, combine, combineValue, seed, seedValue, valueOf, type DagValue } from '../fixtures/chaos-dag.ts';
import { CliCluster, until, type CliNode } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

/** The DAG: LAYERS layers of WIDTH tasks (2,000 in all). */
const LAYERS = 20;
const WIDTH = 100;
/** CPU time of each task, so that the DAG is still running while nodes die. */
const SPIN_MS = 12;
/** Every task and actor runs on the killable nodes. */
const ON_KILLABLE = { k: 0.01 };
/**
 * A task may be placed on nodes that die one after the other, and each death costs it a retry:
 * no limit, so that the test checks values rather than the retry budget.
 */
const TASK_RETRIES = -1;
/** maxRestarts of the four actors: two without limit, one with room to spare, one that runs out. */
const MAX_RESTARTS = [-1, -1, 10, 1] as const;
/** Node kills in a run, and the time between them (the chaos schedule, not a wait for a condition). */
const KILLS = 6;
const KILL_EVERY_MS = 2_500;
/** A get that takes longer than this is a hang, reported as such. */
const GET_TIMEOUT_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: CliCluster | undefined;

afterEach(async () => {
  await shutdown();
  const left = await cluster?.stop();
  cluster = undefined;
  expect(left ?? []).toEqual([]);
}, 60_000);

/** A head, the driver's stable node and two killable nodes; the driver joined through the stable one. */
async function startCluster(): Promise<{ cluster: CliCluster; killable: CliNode[] }> {
  const started = new CliCluster();
  cluster = started;
  await started.startHead('--num-cpus', '1');
  const [stable, ...killable] = await Promise.all([
    started.addNode(1, { stable: 1 }), started.addNode(1, { k: 1 }), started.addNode(1, { k: 1 }),
  ]);
  await until(async () => ((await started.liveNodes()).length === 4 ? true : undefined), 'four live nodes');
  await init({ address: (stable as CliNode).address, token: started.token, workingDir: FIXTURES });
  return { cluster: started, killable };
}

/** The DAG's refs, layer by layer, and the values they must have. */
function submitDag(): { refs: Array<Array<ObjectRef<DagValue>>>; expected: number[][] } {
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

/** What one call of an actor returned. */
type Outcome = { ok: true; reply: CounterReply } | { ok: false; code: string; message: string };

async function call(actor: ActorHandle<ChaosCounter>): Promise<Outcome> {
  try {
    return { ok: true, reply: await get(actor.inc.remote(), { timeoutMs: GET_TIMEOUT_MS }) };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { ok: false, code: e.code ?? e.name, message: e.message };
  }
}

/** Calls every actor, one call each per round, until `done()`, adding to each actor's outcomes in order. */
async function callActors(actors: Array<ActorHandle<ChaosCounter>>, outcomes: Outcome[][], done: () => boolean): Promise<Outcome[][]> {
  while (!done()) {
    const round = await Promise.all(actors.map((actor) => call(actor)));
    round.forEach((outcome, i) => outcomes[i]?.push(outcome));
    await sleep(20);
  }
  return outcomes;
}

/** Every value of the DAG, checked against what it must be. */
async function checkDag(dag: ReturnType<typeof submitDag>): Promise<void> {
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
function checkActor(outcomes: Outcome[], maxRestarts: number, label: string): string[] {
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

/** After the chaos: every actor with restarts left answers; the one without is dead. */
async function checkActorsAfter(actors: Array<ActorHandle<ChaosCounter>>, outcomes: Outcome[][]): Promise<void> {
  for (const [i, actor] of actors.entries()) {
    const label = `actor ${i} (maxRestarts ${MAX_RESTARTS[i]})`;
    const seen = outcomes[i] as Outcome[];
    const incarnations = checkActor(seen, MAX_RESTARTS[i] as number, label);
    const last = await call(actor);
    if (MAX_RESTARTS[i] === 1) {
      // Its node died at least twice (every node that hosted it was killed within two kills).
      expect(last.ok, label).toBe(false);
      expect(seen.at(-1)?.ok, label).toBe(false);
      continue;
    }
    // Every node it lived on at first was killed: it was restarted at least once.
    expect(incarnations.length, label).toBeGreaterThanOrEqual(2);
    expect(last.ok, `${label}: ${last.ok ? '' : last.message}`).toBe(true);
    checkActor([...seen, last], MAX_RESTARTS[i] as number, label);
  }
}

/**
 * Kills the head and starts it again while the actors are being called; the nodes register again
 * by themselves. Nothing but the head's process died: every actor that was answering goes on
 * answering from the same incarnation, its count intact.
 */
async function restartHead(started: CliCluster, outcomes: Outcome[][]): Promise<void> {
  const before = outcomes.map((seen) => seen.at(-1)).map((last) => (last?.ok ? last.reply : undefined));
  await started.killHead();
  await started.restartHead();
  await until(async () => ((await started.liveNodes().catch(() => [])).length === 4 ? true : undefined), 'the nodes to register again');
  const mark = outcomes.map((seen) => seen.length);
  const after = await until(() => {
    const replies = outcomes.map((seen, i) => seen.slice(mark[i]).find((outcome) => outcome.ok));
    return replies.every((reply, i) => reply !== undefined || before[i] === undefined) ? replies : undefined;
  }, 'every actor to answer after the head restart');
  before.forEach((reply, i) => {
    const next = after[i];
    if (reply === undefined || !next?.ok) return;
    expect(next.reply.incarnation, `actor ${i} restarted with the head`).toBe(reply.incarnation);
    expect(next.reply.count).toBeGreaterThan(reply.count);
  });
}

/**
 * The chaos run: actors answer once, the DAG is submitted, then KILLS times a killable node is
 * killed and replaced (and before kill `headRestartAt`, if given, the head is restarted) while
 * the actors are called; then everything is checked.
 */
async function chaos(headRestartAt?: number): Promise<void> {
  const { cluster: started, killable: first } = await startCluster();
  let killable = first;
  const actors = MAX_RESTARTS.map((maxRestarts) => ChaosCounter.options({ resources: ON_KILLABLE, maxRestarts }).remote());
  const outcomes: Outcome[][] = [];
  for (const actor of actors) {
    const reply = await call(actor);
    expect(reply.ok, reply.ok ? '' : reply.message).toBe(true);
    outcomes.push([reply]);
  }
  const dag = submitDag();
  let chaosOver = false;
  const calls = callActors(actors, outcomes, () => chaosOver);
  let finished = false;
  const whole = get(dag.refs.at(-1) as Array<ObjectRef<DagValue>>, { timeoutMs: GET_TIMEOUT_MS * 2 }).finally(() => { finished = true; });
  let killedWhileRunning = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(KILL_EVERY_MS);
    if (kill === headRestartAt) await restartHead(started, outcomes);
    const [victim, ...rest] = killable;
    await started.kill((victim as CliNode).pid);
    if (!finished) killedWhileRunning += 1;
    killable = [...rest, await started.addNode(1, { k: 1 })];
  }
  await whole;
  chaosOver = true;
  await calls;
  await checkDag(dag);
  await checkActorsAfter(actors, outcomes);
  // The DAG was still running when most of the nodes died.
  expect(killedWhileRunning).toBeGreaterThanOrEqual(KILLS - 1);
}

describe('a cluster whose processes are killed while it works', () => {
  it('returns every result of a 2,000-task DAG and keeps its actors within their restarts while a node is killed every few seconds', async () => {
    await chaos();
  }, 180_000);

  it('does the same when the head is killed and started again midway', async () => {
    await chaos(2);
  }, 180_000);
});
