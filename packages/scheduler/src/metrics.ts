/**
 * The head's Prometheus metrics (`/metrics`), through prom-client: one registry per head (two
 * heads in one process, as in tests, keep theirs apart). Gauges and counters are read from the
 * head's state when scraped (nodes and their heartbeat stats, actors, the task table's counts);
 * task durations are observed as the task table reports tasks finished.
 *
 * Names (labels in braces):
 * - nodes: `weft_nodes_alive`, `weft_nodes{state}` (alive, dead: those still remembered),
 *   `weft_node_up{node}` (1 alive, 0 dead)
 * - resources: `weft_resources_total{resource}`, `weft_resources_available{resource}` (live nodes)
 * - tasks: `weft_tasks{state}` (waiting, queued, running: in the task table now; finished, failed:
 *   since the head started), `weft_task_duration_seconds{state}` (histogram of run times, started
 *   to finished), `weft_tasks_running`, `weft_tasks_queued` (from the nodes' heartbeats),
 *   `weft_task_events_dropped_total`
 * - actors: `weft_actors_alive` (not dead), `weft_actors{state}`
 * - objects: `weft_objects`, `weft_object_bytes` (live nodes' stores), `weft_node_objects{node}`,
 *   `weft_node_object_bytes{node}`, `weft_node_spilled_objects{node}`, `weft_node_spilled_bytes{node}`
 * - transfers: `weft_node_bytes_pulled_total{node}`, `weft_node_bytes_pushed_total{node}` (object
 *   chunks between nodes, as each node counts them), `weft_bytes_moved_total` (all pulled bytes)
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ActorRegistry } from './actor-registry.ts';
import type { NodeRecord, NodeRegistry } from './node-registry.ts';
import type { TaskTable } from './task-table.ts';

/** What the metrics read: the head's registries (a Head has them). */
export interface MetricsSources {
  readonly nodes: NodeRegistry;
  readonly actors: ActorRegistry;
  readonly tasks: TaskTable;
}

/** Bucket bounds of task durations, in seconds: tiny tasks to long ones. */
export const TASK_DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

const ACTOR_STATES = ['pending', 'alive', 'restarting', 'dead'] as const;

export class HeadMetrics {
  readonly registry = new Registry();
  readonly #unsubscribe: () => void;

  constructor(private readonly head: MetricsSources) {
    this.#nodeMetrics();
    this.#taskMetrics();
    this.#actorMetrics();
    this.#objectMetrics();
    this.#transferMetrics();
    const durations = new Histogram({
      name: 'weft_task_duration_seconds', help: 'Run time of tasks, from started to finished or failed.', labelNames: ['state'],
      buckets: TASK_DURATION_BUCKETS_S, registers: [this.registry],
    });
    this.#unsubscribe = head.tasks.subscribe(({ finished }) => {
      for (const row of finished) {
        if (row.startedAt !== undefined && row.finishedAt !== undefined) durations.observe({ state: row.state }, Math.max(0, row.finishedAt - row.startedAt) / 1000);
      }
    });
  }

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stop observing the task table. */
  close(): void {
    this.#unsubscribe();
  }

  #gauge(name: string, help: string, labelNames: string[], collect: (set: (value: number, labels?: Record<string, string>) => void) => void): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        collect((value, labels) => (labels ? this.set(labels, value) : this.set(value)));
      },
    });
  }

  /** A counter of totals the nodes keep (their heartbeats carry them): set from those at each scrape. */
  #counter(name: string, help: string, labelNames: string[], collect: (inc: (value: number, labels?: Record<string, string>) => void) => void): void {
    new Counter({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        collect((value, labels) => (labels ? this.inc(labels, value) : this.inc(value)));
      },
    });
  }

  #live(): NodeRecord[] {
    return this.head.nodes.all().filter((node) => node.alive);
  }

  #nodeMetrics(): void {
    this.#gauge('weft_nodes_alive', 'Nodes alive in the cluster.', [], (set) => set(this.#live().length));
    this.#gauge('weft_nodes', 'Nodes by state (dead ones: those the head still remembers).', ['state'], (set) => {
      const all = this.head.nodes.all();
      const alive = all.filter((node) => node.alive).length;
      set(alive, { state: 'alive' });
      set(all.length - alive, { state: 'dead' });
    });
    this.#gauge('weft_node_up', 'Whether a node is alive (1) or was declared dead (0).', ['node'], (set) => {
      for (const node of this.head.nodes.all()) set(node.alive ? 1 : 0, { node: node.nodeId });
    });
    this.#gauge('weft_resources_total', 'Total resources of live nodes.', ['resource'], (set) => {
      for (const [resource, amount] of Object.entries(this.head.nodes.totals())) set(amount, { resource });
    });
    this.#gauge('weft_resources_available', 'Free resources of live nodes.', ['resource'], (set) => {
      const free: Record<string, number> = {};
      for (const node of this.#live()) for (const [name, amount] of Object.entries(node.available)) free[name] = (free[name] ?? 0) + amount;
      for (const [resource, amount] of Object.entries(free)) set(amount, { resource });
    });
  }

  #taskMetrics(): void {
    this.#gauge('weft_tasks', 'Tasks by state: waiting, queued, running in the task table now; finished, failed since the head started.', ['state'], (set) => {
      const counts = this.head.tasks.counts();
      const totals = this.head.tasks.totals();
      for (const state of ['waiting', 'queued', 'running'] as const) set(counts[state], { state });
      set(totals.finished, { state: 'finished' });
      set(totals.failed, { state: 'failed' });
    });
    this.#gauge('weft_tasks_running', 'Tasks running, as the nodes last reported.', [], (set) => set(this.#sumStats((stats) => stats.running)));
    this.#gauge('weft_tasks_queued', 'Tasks waiting or queued, as the nodes last reported.', [], (set) => set(this.#sumStats((stats) => stats.queued)));
    this.#counter('weft_task_events_dropped_total', 'Task events lost (dropped by a node, or over the task table\'s bound).', [],
      (inc) => inc(this.head.tasks.dropped()));
  }

  #actorMetrics(): void {
    this.#gauge('weft_actors_alive', 'Actors not dead.', [], (set) => set(this.head.actors.all().filter((actor) => actor.state !== 'dead').length));
    this.#gauge('weft_actors', 'Actors by state.', ['state'], (set) => {
      const actors = this.head.actors.all();
      for (const state of ACTOR_STATES) set(actors.filter((actor) => actor.state === state).length, { state });
    });
  }

  #objectMetrics(): void {
    this.#gauge('weft_objects', 'Objects in the object stores of live nodes.', [], (set) => set(this.#sumStats((stats) => stats.objects)));
    this.#gauge('weft_object_bytes', 'Bytes of objects in memory in the object stores of live nodes.', [], (set) => set(this.#sumStats((stats) => stats.objectBytes)));
    const perNode = (name: string, help: string, pick: (stats: NonNullable<NodeRecord['stats']>) => number | undefined): void => {
      this.#gauge(name, help, ['node'], (set) => {
        for (const node of this.#live()) if (node.stats) set(pick(node.stats) ?? 0, { node: node.nodeId });
      });
    };
    perNode('weft_node_objects', 'Objects in a node\'s store.', (stats) => stats.objects);
    perNode('weft_node_object_bytes', 'Bytes of objects in memory in a node\'s store.', (stats) => stats.objectBytes);
    perNode('weft_node_spilled_objects', 'Objects a node spilled to its disk.', (stats) => stats.spilledObjects);
    perNode('weft_node_spilled_bytes', 'Bytes of the objects a node spilled to its disk.', (stats) => stats.spilledBytes);
  }

  #transferMetrics(): void {
    // Every node remembered, dead ones too: a counter does not go down when its node dies.
    this.#counter('weft_node_bytes_pulled_total', 'Bytes of objects a node pulled from other nodes.', ['node'], (inc) => {
      for (const node of this.head.nodes.all()) if (node.stats) inc(node.stats.bytesPulled ?? 0, { node: node.nodeId });
    });
    this.#counter('weft_node_bytes_pushed_total', 'Bytes of objects other nodes pulled from a node.', ['node'], (inc) => {
      for (const node of this.head.nodes.all()) if (node.stats) inc(node.stats.bytesPushed ?? 0, { node: node.nodeId });
    });
    this.#counter('weft_bytes_moved_total', 'Bytes of objects moved between nodes (pulled, all nodes).', [], (inc) => {
      inc(this.head.nodes.all().reduce((sum, node) => sum + (node.stats?.bytesPulled ?? 0), 0));
    });
  }

  #sumStats(pick: (stats: NonNullable<NodeRecord['stats']>) => number): number {
    return this.#live().reduce((sum, node) => sum + (node.stats ? pick(node.stats) : 0), 0);
  }
}
