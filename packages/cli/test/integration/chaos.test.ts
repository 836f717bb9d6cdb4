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
import { afterEach, describe, expect, it } from 'vitest';
import { get, init, shutdown, type ObjectRef } from '@weft/core';
import { ChaosCounter } from '../fixtures/chaos-counter.ts';
import type { DagValue } from '../fixtures/chaos-dag.ts';
import {
  CHAOS_EVERY_MS, FIXTURES, GET_TIMEOUT_MS, MAX_RESTARTS, ON_KILLABLE, call, callActors, checkActorsAfter, checkDag, sleep, submitDag,
  type Outcome,
} from '../support/chaos-checks.ts';
import { CliCluster, until, type CliNode } from '../support/cli-cluster.ts';

/** Node kills in a run (one every CHAOS_EVERY_MS). */
const KILLS = 6;

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
    await sleep(CHAOS_EVERY_MS);
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
  // The actor with maxRestarts 1 is dead: every node that hosted it was killed within two kills.
  await checkActorsAfter(actors, outcomes, (i) => MAX_RESTARTS[i] === 1);
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
