/**
 * Chaos across machines: the chaos test (a 2,000-task DAG and 4 ChaosCounter actors with
 * maxRestarts -1, -1, 10, 1) on simulated hosts started with the README recipe, with network cuts
 * and heals beside the SIGKILLs. Host 1 runs the head (`--host 0.0.0.0`, no `k`: no workload);
 * hosts 2–6 each run a node offering `k`, on which every task and actor runs; the driver is this
 * process in the root namespace, joined to the head's URL. Every CHAOS_EVERY_MS one event, kills
 * and cuts alternating (PLAN): the node of a worker host is SIGKILLed by the pid its session
 * recorded and a fresh one started there with the same command, or a worker host is cut off the
 * network and healed a few seconds later, some cuts outlasting the head's death timeout (the head
 * declares the node dead first), some not (the node's lease runs out first and it fences itself).
 *
 * What must hold: every DAG value is right; each actor's calls pass checkActor (1, 2, 3… per
 * incarnation, only ActorDiedError between, within maxRestarts); no incarnation answers a call made
 * after the head declared its node dead; each actor ends dead exactly when the head counted more
 * ends of its incarnations than its maxRestarts allow (its restarts, and its death, as the head
 * logs them), and every other actor answers a last call; every worker host, cut or killed, is a
 * live node again, under a new node id; `weft stop` on every host leaves no process, and no
 * namespace or link of this test is left. The test prints how long after a cut or kill each actor
 * that lived there answered from elsewhere, and how long after a heal the host was a live node again.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, init, shutdown, type ActorHandle, type ObjectRef } from '@weft/core';
import { DEATH_TIMEOUT_MS } from '@weft/protocol';
import { isRunning } from '../../src/processes.ts';
import { ChaosCounter } from '../fixtures/chaos-counter.ts';
import type { DagValue } from '../fixtures/chaos-dag.ts';
import {
  CHAOS_EVERY_MS, FIXTURES, GET_TIMEOUT_MS, MAX_RESTARTS, ON_KILLABLE, call, callActors, checkActorsAfter, checkDag, sleep, submitDag,
  type Outcome,
} from '../support/chaos-checks.ts';
import { until } from '../support/cli-cluster.ts';
import { SimulatedHosts, type Host } from '../support/hosts.ts';

const HEAD_PORT = 7350;
const HEAD_HOST: Host = 1;
const WORKER_HOSTS: Host[] = [2, 3, 4, 5, 6];
/** What every worker host's node is started with, the first time and after each kill. */
const NODE_ARGS = ['--num-cpus', '1', '--resources', JSON.stringify({ k: 1 })];
/**
 * Cuts longer than the head's death timeout (4.5 s: it declares the node dead while the host is
 * cut off), and shorter than it but longer than the node's lease (3.5 s: the node fences itself,
 * and the head hears of it after the heal).
 */
const LONG_CUT_MS = DEATH_TIMEOUT_MS + 2_500;
const SHORTER_LONG_CUT_MS = DEATH_TIMEOUT_MS + 1_500;
const SHORT_CUT_MS = DEATH_TIMEOUT_MS - 500;
/** Events while the DAG runs, at least: in all, and of each kind. */
const MIN_EVENTS_WHILE_RUNNING = 6;
const MIN_OF_EACH_KIND = 2;
/** How often the head's node list is read while the chaos runs (to see deaths and rejoins as they happen). */
const WATCH_EVERY_MS = 100;

/** One chaos event of the plan. */
type Step = { kind: 'kill'; host: Host } | { kind: 'cut'; host: Host; ms: number };

/**
 * The chaos schedule, one step every CHAOS_EVERY_MS, kills and cuts alternating. Each host's first
 * event surely ends the node it had at the start (a kill, or a cut past the death timeout), so that
 * every actor's first incarnation ends and the actors with restarts left must have restarted. A
 * killed host is out until its new node is up (several seconds on two busy CPUs), and a cut host
 * counts as alive for the head until its death timeout (an actor may be restarted onto it): with
 * five hosts, some node with `k` is alive at every moment, so an actor with restarts left always
 * has somewhere to go.
 */
const PLAN: Step[] = [
  { kind: 'kill', host: 2 },
  { kind: 'cut', host: 3, ms: LONG_CUT_MS },
  { kind: 'kill', host: 4 },
  { kind: 'cut', host: 5, ms: SHORTER_LONG_CUT_MS },
  { kind: 'kill', host: 6 },
  { kind: 'cut', host: 2, ms: SHORT_CUT_MS },
  { kind: 'kill', host: 3 },
  { kind: 'cut', host: 4, ms: SHORT_CUT_MS },
];

/** An event as it happened (times are Date.now()). */
interface ChaosEvent {
  step: Step;
  /** When the kill was sent, or the host cut. */
  at: number;
  /** When the killed process was gone, or the host healed; undefined until then. */
  end?: number;
  /** When a killed host's new node was ready. */
  replaced?: number;
  /** The nodes the head listed alive at the host just before. */
  before: string[];
  /** Whether the DAG was still running when it happened. */
  whileRunning: boolean;
}

/** A node as `/api/nodes` and `weft list nodes --json` describe it. */
interface NodeView {
  nodeId: string;
  address: string;
  alive: boolean;
}

/** A node as the watch saw it. */
interface NodeSeen {
  nodeId: string;
  /** The host address it listens on. */
  host: string;
  /** The first poll that saw it alive, and the first that saw it dead (or no longer listed). */
  firstAlive: number;
  deadAt?: number;
}

const reason = SimulatedHosts.unavailable();
const hosts = new SimulatedHosts({ env: { WEFT_LOG_LEVEL: process.env.WEFT_HOSTS_LOG_LEVEL ?? 'info' } });
let headUrl = '';
let token = '';
/** The node each worker host runs now: its session and name there (`node-<n>`). */
const running = new Map<Host, { session: string; name: string }>();

const hostOf = (address: string): string => new URL(address).hostname;

/** `weft start --address … --token …` on a worker host; remembers its session and node name. */
async function startNode(host: Host): Promise<void> {
  const { stdout } = await hosts.weft(host, 'start', '--address', headUrl, '--token', token, ...NODE_ARGS);
  const name = /weft node (node-\d+) running/.exec(stdout)?.[1];
  const session = /^\s*session\s+(\S+)/m.exec(stdout)?.[1];
  if (name === undefined || session === undefined) throw new Error(`weft start on host ${host} printed no node name or session:\n${stdout}`);
  running.set(host, { session, name });
}

/** The pid the host's session recorded for the node it runs now. */
function recordedPid(host: Host): number {
  const node = running.get(host);
  if (!node) throw new Error(`no node started on host ${host}`);
  const pid = Number(readFileSync(path.join(node.session, `${node.name}.pid`), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`host ${host}: no pid recorded for ${node.name}`);
  return pid;
}

/** The head's node list, read over its state API from the root namespace (cheap: no CLI process). */
async function headNodes(): Promise<NodeView[]> {
  const response = await fetch(`http://${hosts.address(HEAD_HOST)}:${HEAD_PORT}/api/nodes`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /api/nodes: HTTP ${response.status}`);
  return (await response.json()) as NodeView[];
}

/** `weft list nodes --json` on host 1. */
async function listNodes(): Promise<NodeView[]> {
  return JSON.parse((await hosts.weft(HEAD_HOST, 'list', 'nodes', '--json')).stdout) as NodeView[];
}

/** Reads the head's node list every WATCH_EVERY_MS and remembers every node it ever listed. */
class NodeWatch {
  readonly seen = new Map<string, NodeSeen>();
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor() {
    this.#loop = (async () => {
      while (!this.#stopped) {
        await this.poll().catch(() => {}); // a poll that fails is just a poll missed
        await sleep(WATCH_EVERY_MS);
      }
    })();
  }

  /** One read of the list: returns it. */
  async poll(): Promise<NodeView[]> {
    const nodes = await headNodes();
    const now = Date.now();
    const listed = new Set(nodes.map((node) => node.nodeId));
    for (const node of nodes) {
      const known = this.seen.get(node.nodeId);
      if (!known && node.alive) this.seen.set(node.nodeId, { nodeId: node.nodeId, host: hostOf(node.address), firstAlive: now });
      else if (known && !node.alive) known.deadAt ??= now;
    }
    for (const known of this.seen.values()) if (!listed.has(known.nodeId)) known.deadAt ??= now;
    return nodes;
  }

  /** The nodes listed alive at a host now. */
  async aliveAt(host: Host): Promise<string[]> {
    return (await this.poll()).filter((node) => node.alive && hostOf(node.address) === hosts.address(host)).map((node) => node.nodeId);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}

/** What the head's log says of one actor's incarnations ending: the restarts it granted, in order, and whether it died. */
interface HeadCount {
  restarts: number[];
  died: boolean;
}

/**
 * The head's own count of each actor's ends (its log on host 1): a restart granted after the
 * actor's node died (or its worker did), or its death when none was left. The head is the one
 * authority on this count, so it is what says whether an actor must be dead.
 */
function headCounts(actorIds: string[]): HeadCount[] {
  const counts = new Map(actorIds.map((id) => [id, { restarts: [] as number[], died: false }]));
  for (const session of hosts.sessions(HEAD_HOST)) {
    let text = '';
    try {
      text = readFileSync(path.join(session, 'logs', 'head.log'), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      let entry: { msg?: string; actorId?: string; restart?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // not a log record (the banner), or the line being written
      }
      const count = entry.actorId === undefined ? undefined : counts.get(entry.actorId);
      if (!count) continue;
      if (entry.msg === 'restarting an actor whose node died' || entry.msg === 'restarting an actor whose worker died') count.restarts.push(entry.restart as number);
      if (entry.msg === 'actor died with its node') count.died = true;
    }
  }
  return actorIds.map((id) => counts.get(id) as HeadCount);
}

describe.skipIf(reason !== undefined)('a cluster of simulated hosts whose nodes are killed and cut off the network while it works', () => {
  beforeAll(async () => {
    await hosts.create(1 + WORKER_HOSTS.length);
    headUrl = `ws://${hosts.address(HEAD_HOST)}:${HEAD_PORT}`;
    const head = await hosts.weft(HEAD_HOST, 'start', '--head', '--host', '0.0.0.0', '--num-cpus', '1');
    const joined = new RegExp(`weft start --address ${headUrl} --token (\\S+)`).exec(head.stdout)?.[1];
    if (joined === undefined) throw new Error(`the head printed no join command:\n${head.stdout}`);
    token = joined;
    await Promise.all(WORKER_HOSTS.map((host) => startNode(host)));
    await until(async () => ((await headNodes()).filter((node) => node.alive).length === 1 + WORKER_HOSTS.length ? true : undefined),
      'every host to be a live node', 30_000, 100);
    await init({ address: headUrl, token, workingDir: FIXTURES });
  }, 60_000);

  afterAll(async () => {
    try {
      await shutdown();
    } finally {
      expect(await hosts.destroy()).toEqual([]);
      expect(hosts.leftovers()).toEqual([]);
    }
  }, 60_000);

  it('returns every result of a 2,000-task DAG and keeps its actors within their restarts while nodes are killed and hosts cut off and healed', async () => {
    const actors: Array<ActorHandle<ChaosCounter>> = MAX_RESTARTS.map((maxRestarts) => ChaosCounter.options({ resources: ON_KILLABLE, maxRestarts }).remote());
    const outcomes: Outcome[][] = [];
    for (const actor of actors) {
      const reply = await call(actor);
      expect(reply.ok, reply.ok ? '' : reply.message).toBe(true);
      outcomes.push([reply]);
    }
    const watch = new NodeWatch();
    const dag = submitDag();
    const dagStart = Date.now();
    let chaosOver = false;
    const calls = callActors(actors, outcomes, () => chaosOver);
    let finishedAt: number | undefined;
    const whole = get(dag.refs.at(-1) as Array<ObjectRef<DagValue>>, { timeoutMs: GET_TIMEOUT_MS * 2 }).finally(() => { finishedAt = Date.now(); });
    whole.catch(() => {}); // awaited below; meanwhile a failure must not go unhandled
    let events: ChaosEvent[];
    try {
      events = await chaos(watch, dagStart, () => finishedAt === undefined);
      await whole;
      // Every node an event hit is dead, and every worker host is one live node again, a new one.
      const hit = new Set(events.flatMap((event) => event.before));
      const settled = await until(async () => {
        const alive = (await watch.poll()).filter((node) => node.alive);
        const fresh = WORKER_HOSTS.map((host) => alive.filter((node) => hostOf(node.address) === hosts.address(host) && !hit.has(node.nodeId)));
        return alive.some((node) => hit.has(node.nodeId)) || fresh.some((at) => at.length !== 1) ? undefined : Date.now();
      }, 'every node an event hit to be dead and every worker host to be one new live node', 30_000, WATCH_EVERY_MS);
      // One more round of calls, all made once every death is known: an actor dead now has its last calls fail.
      await until(() => (outcomes.every((seen) => (seen.at(-1)?.at ?? 0) > settled) ? true : undefined), 'a round of calls after the chaos', GET_TIMEOUT_MS, 20);
    } finally {
      chaosOver = true;
      await watch.stop();
    }
    await calls;
    await watch.poll();
    const counts = headCounts(actors.map((actor) => actor.actorId));
    report(events, outcomes, watch, counts, dagStart, finishedAt as number);

    await checkDag(dag);

    // The head counts each end once, in order, and never grants more than maxRestarts; it declares
    // an actor dead only once its restarts are spent (some node with `k` was always alive).
    counts.forEach((count, i) => {
      const max = MAX_RESTARTS[i] as number;
      expect(count.restarts, `actor ${i}: restarts granted`).toEqual(count.restarts.map((_, n) => n + 1));
      if (max >= 0) expect(count.restarts.length).toBeLessThanOrEqual(max);
      if (count.died) expect(count.restarts.length, `actor ${i} died with restarts left`).toBe(max);
    });
    const lasts = await checkActorsAfter(actors, outcomes, (i) => (counts[i] as HeadCount).died);

    const hostOfNode = (nodeId: string): string | undefined => watch.seen.get(nodeId)?.host;
    actors.forEach((_, i) => {
      const label = `actor ${i} (maxRestarts ${MAX_RESTARTS[i]})`;
      const count = counts[i] as HeadCount;
      const all = [...(outcomes[i] as Outcome[]), lasts[i] as Outcome];
      if (!(lasts[i] as Outcome).ok) expect((lasts[i] as Outcome & { ok: false }).code, label).toBe('ACTOR_DIED');
      const replies = all.filter((outcome): outcome is Outcome & { ok: true } => outcome.ok);
      const incarnations = [...new Set(replies.map((outcome) => outcome.reply.incarnation))];
      // The head started every incarnation that answered.
      expect(incarnations.length, label).toBeLessThanOrEqual(count.restarts.length + 1);
      // Every incarnation that answered lived on a node the head listed.
      for (const outcome of replies) expect(hostOfNode(outcome.reply.nodeId), `${label}: node ${outcome.reply.nodeId}`).toBeDefined();
      // No incarnation answered a call made after the head declared its node dead.
      const late = replies.filter((outcome) => {
        const deadAt = watch.seen.get(outcome.reply.nodeId)?.deadAt;
        return deadAt !== undefined && outcome.at > deadAt;
      });
      expect(late.map((outcome) => `${outcome.reply.incarnation} on ${outcome.reply.nodeId}, called ${outcome.at - (watch.seen.get(outcome.reply.nodeId)?.deadAt ?? 0)} ms after its node was declared dead`), label).toEqual([]);
      // Each incarnation that answered from a node the head then declared dead ended there, and the
      // head counted that end: there are at least that many, and if that is more than maxRestarts
      // allow, the actor is dead.
      const ended = incarnations.filter((incarnation) => {
        const nodeId = replies.find((outcome) => outcome.reply.incarnation === incarnation)?.reply.nodeId as string;
        return watch.seen.get(nodeId)?.deadAt !== undefined;
      });
      expect(ended.length, label).toBeLessThanOrEqual(count.restarts.length + (count.died ? 1 : 0));
      const max = MAX_RESTARTS[i] as number;
      if (max >= 0 && ended.length > max) expect(count.died, `${label}: ${ended.length} incarnations ended`).toBe(true);
    });

    // The DAG was still running through most of the chaos, both kinds of event included.
    const whileRunning = events.filter((event) => event.whileRunning);
    expect(whileRunning.length).toBeGreaterThanOrEqual(MIN_EVENTS_WHILE_RUNNING);
    expect(whileRunning.filter((event) => event.step.kind === 'kill').length).toBeGreaterThanOrEqual(MIN_OF_EACH_KIND);
    expect(whileRunning.filter((event) => event.step.kind === 'cut').length).toBeGreaterThanOrEqual(MIN_OF_EACH_KIND);
    // Every worker host that was cut and healed is a live node again, as weft list nodes shows.
    const listed = await listNodes();
    for (const event of events.filter((e) => e.step.kind === 'cut')) {
      expect(listed.filter((node) => node.alive && hostOf(node.address) === hosts.address(event.step.host)), `host ${event.step.host}`).toHaveLength(1);
    }
  }, 150_000);

  it('leaves no process running once weft stop has run on each host', async () => {
    await shutdown();
    await Promise.all(WORKER_HOSTS.map((host) => hosts.weft(host, 'stop')));
    await hosts.weft(HEAD_HOST, 'stop');
    expect(hosts.running()).toEqual([]);
  }, 60_000);
});

/**
 * Runs PLAN, one step every CHAOS_EVERY_MS from `start`. A host's kill-and-replace or cut-and-heal
 * goes on in the background; the host's next step waits for it, and so does the end.
 */
async function chaos(watch: NodeWatch, start: number, dagRunning: () => boolean): Promise<ChaosEvent[]> {
  const events: ChaosEvent[] = [];
  const busy = new Map<Host, Promise<void>>();
  for (const [i, step] of PLAN.entries()) {
    await sleep(start + (i + 1) * CHAOS_EVERY_MS - Date.now());
    await busy.get(step.host);
    const before = await watch.aliveAt(step.host);
    if (step.kind === 'kill') {
      const pid = recordedPid(step.host);
      const event: ChaosEvent = { step, at: Date.now(), before, whileRunning: dagRunning() };
      process.kill(pid, 'SIGKILL');
      events.push(event);
      busy.set(step.host, (async () => {
        await until(() => (isRunning(pid) ? undefined : true), `pid ${pid} on host ${step.host} to be gone after SIGKILL`, 10_000, 10);
        event.end = Date.now();
        await startNode(step.host);
        event.replaced = Date.now();
      })());
    } else {
      await hosts.cut(step.host);
      const event: ChaosEvent = { step, at: Date.now(), before, whileRunning: dagRunning() };
      events.push(event);
      busy.set(step.host, (async () => {
        await sleep(step.ms);
        await hosts.heal(step.host);
        event.end = Date.now();
      })());
    }
  }
  await Promise.all(busy.values());
  return events;
}

/**
 * Prints what happened: each event, how long after it each actor that lived on its host answered
 * from another incarnation, and (cuts) how long after the heal the host was a live node again.
 */
function report(events: ChaosEvent[], outcomes: Outcome[][], watch: NodeWatch, counts: HeadCount[], dagStart: number, finishedAt: number): void {
  const lines = [`chaos-partition: DAG ran ${((finishedAt - dagStart) / 1000).toFixed(1)} s; restarts granted ${counts.map((c) => `${c.restarts.length}${c.died ? ' (dead)' : ''}`).join(', ')}`];
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  for (const event of events) {
    const { step } = event;
    const what = step.kind === 'kill' ? `kill host ${step.host}` : `cut host ${step.host} for ${step.ms / 1000} s`;
    const moved: string[] = [];
    outcomes.forEach((seen, i) => {
      const before = seen.filter((outcome) => outcome.ok && outcome.done <= event.at).at(-1);
      if (!before?.ok || watch.seen.get(before.reply.nodeId)?.host !== hosts.address(step.host)) return;
      const next = seen.find((outcome) => outcome.ok && outcome.done > event.at && outcome.reply.incarnation !== before.reply.incarnation);
      moved.push(`actor ${i} answered elsewhere after ${next ? s(next.done - event.at) : 'never'}`);
    });
    let back = '';
    if (step.kind === 'cut' && event.end !== undefined) {
      const rejoined = [...watch.seen.values()].filter((node) => node.host === hosts.address(step.host) && node.firstAlive >= (event.end as number))
        .sort((a, b) => a.firstAlive - b.firstAlive)[0];
      back = `; live again ${rejoined ? s(rejoined.firstAlive - event.end) : 'never'} after the heal`;
    }
    if (step.kind === 'kill' && event.replaced !== undefined) back = `; replaced after ${s(event.replaced - event.at)}`;
    lines.push(`  +${s(event.at - dagStart)} ${what}${event.whileRunning ? '' : ' (DAG done)'}${back}${moved.length > 0 ? `; ${moved.join(', ')}` : ''}`);
  }
  console.log(lines.join('\n'));
}
