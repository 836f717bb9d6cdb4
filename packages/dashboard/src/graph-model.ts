/**
 * The task graph of a job as the page draws it: its tasks and the edges from each task whose
 * result another task took as an argument (a task's id is the id of the object it returns; an
 * item a generator yielded is `<taskId>-<index>`). Laid out by dagre (the layered layout Dask's
 * and Airflow's graph views use; small, synchronous, enough for the few hundred tasks shown).
 */
import dagre from '@dagrejs/dagre';
import type { TaskEvent } from '@weft/protocol';

/** Tasks drawn at most: the most recent ones of the job. */
export const MAX_GRAPH_TASKS = 300;
export const NODE_WIDTH = 120;
export const NODE_HEIGHT = 34;

export interface GraphLayout {
  nodes: Array<{ task: TaskEvent; x: number; y: number }>;
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }> }>;
  width: number;
  height: number;
  /** Tasks of the job left out (over MAX_GRAPH_TASKS). */
  hidden: number;
}

/** The task that made object `objectId`, among `ids`; undefined: a put, or a task not shown. */
export function producerOf(objectId: string, ids: Set<string>): string | undefined {
  if (ids.has(objectId)) return objectId;
  const dash = objectId.lastIndexOf('-');
  return dash > 0 && ids.has(objectId.slice(0, dash)) ? objectId.slice(0, dash) : undefined;
}

/** The edges between `tasks`: [producer, consumer] pairs. */
export function edgesOf(tasks: TaskEvent[]): Array<[string, string]> {
  const ids = new Set(tasks.map((task) => task.taskId));
  const edges: Array<[string, string]> = [];
  for (const task of tasks) {
    for (const dep of new Set(task.deps ?? [])) {
      const from = producerOf(dep, ids);
      if (from !== undefined && from !== task.taskId) edges.push([from, task.taskId]);
    }
  }
  return edges;
}

/** Columns of the grid of tasks that neither take nor give a result (a map's items), at the least. */
const MIN_GRID_COLUMNS = 8;
const GAP = 16;

/**
 * Lays out the last MAX_GRAPH_TASKS of `tasks`: those with edges top to bottom by dagre, the
 * others (a map's items, lone calls) in a grid below, which dagre would put in one long row.
 */
export function layoutGraph(all: TaskEvent[]): GraphLayout {
  const tasks = all.slice(-MAX_GRAPH_TASKS);
  const edges = edgesOf(tasks);
  const linked = new Set(edges.flat());
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: GAP, ranksep: 40, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const task of tasks) if (linked.has(task.taskId)) g.setNode(task.taskId, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const [from, to] of edges) g.setEdge(from, to);
  dagre.layout(g);
  const byId = new Map(tasks.map((task) => [task.taskId, task]));
  const nodes = g.nodes().map((id: string) => {
    const node = g.node(id);
    return { task: byId.get(id) as TaskEvent, x: node.x, y: node.y };
  });
  let width = linked.size > 0 ? g.graph().width ?? 0 : 0;
  const top = linked.size > 0 ? (g.graph().height ?? 0) + GAP : 10;
  const lone = tasks.filter((task) => !linked.has(task.taskId));
  const columns = Math.max(MIN_GRID_COLUMNS, Math.floor((width - 10) / (NODE_WIDTH + GAP)));
  lone.forEach((task, i) => {
    nodes.push({
      task, x: 10 + (i % columns) * (NODE_WIDTH + GAP) + NODE_WIDTH / 2,
      y: top + Math.floor(i / columns) * (NODE_HEIGHT + GAP) + NODE_HEIGHT / 2,
    });
  });
  if (lone.length > 0) width = Math.max(width, 10 + Math.min(columns, lone.length) * (NODE_WIDTH + GAP));
  const rows = Math.ceil(lone.length / columns);
  return {
    nodes,
    edges: edges.map(([from, to]) => ({ from, to, points: g.edge(from, to)?.points ?? [] })),
    width,
    height: lone.length > 0 ? top + rows * (NODE_HEIGHT + GAP) : g.graph().height ?? 0,
    hidden: all.length - tasks.length,
  };
}
