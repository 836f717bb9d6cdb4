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

/** Lays out the last MAX_GRAPH_TASKS of `tasks`, top to bottom. */
export function layoutGraph(all: TaskEvent[]): GraphLayout {
  const tasks = all.slice(-MAX_GRAPH_TASKS);
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 16, ranksep: 40, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const task of tasks) g.setNode(task.taskId, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const edges = edgesOf(tasks);
  for (const [from, to] of edges) g.setEdge(from, to);
  dagre.layout(g);
  const byId = new Map(tasks.map((task) => [task.taskId, task]));
  return {
    nodes: g.nodes().map((id) => {
      const node = g.node(id);
      return { task: byId.get(id) as TaskEvent, x: node.x, y: node.y };
    }),
    edges: edges.map(([from, to]) => ({ from, to, points: g.edge(from, to)?.points ?? [] })),
    width: g.graph().width ?? 0,
    height: g.graph().height ?? 0,
    hidden: all.length - tasks.length,
  };
}
