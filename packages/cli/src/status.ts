/**
 * `weft status` (the cluster at a glance) and `weft list nodes|actors|tasks|objects` (one table
 * each), both from the head's state API, with `--json` printing what the API returned.
 */
import { getJson, resolveHead, type HeadOptions } from './head-client.ts';
import { bytes, num, otherResources, table, text, usage, type Column } from './table.ts';

/** Options of `weft status` and `weft list`. */
export interface InspectOptions extends HeadOptions {
  /** Print the API's JSON instead of a table. */
  json?: boolean;
}

/** A node as `/api/status` and `/api/nodes` describe it. */
interface NodeView {
  nodeId: string;
  address: string;
  alive: boolean;
  resources: Record<string, number>;
  available: Record<string, number>;
  stats: { objects: number; objectBytes: number; workers: number; actors: number; queued: number; running: number } | null;
  lastHeartbeatMsAgo: number;
  /** For a dead node: how long ago it was declared dead, and why. */
  diedMsAgo?: number;
  deathCause?: string;
}

/** `alive`, or `dead 12s ago (missed heartbeats)`. */
function nodeState(node: NodeView): string {
  if (node.alive) return 'alive';
  const ago = node.diedMsAgo === undefined ? '' : ` ${Math.round(node.diedMsAgo / 1000)}s ago`;
  const cause = node.deathCause === undefined ? '' : ` (${node.deathCause.length > 40 ? `${node.deathCause.slice(0, 39)}…` : node.deathCause})`;
  return `dead${ago}${cause}`;
}

/** What `/api/status` returns. */
interface StatusView {
  nodes: NodeView[];
  resources: Record<string, number>;
  available: Record<string, number>;
  actors: number;
  objects: number;
  objectBytes: number;
  jobs: unknown[];
}

type Row = Record<string, unknown>;

const NODE_COLUMNS: Array<Column<NodeView>> = [
  { header: 'NODE', cell: (node) => node.nodeId },
  { header: 'ADDRESS', cell: (node) => node.address },
  { header: 'CPU USED/TOTAL', cell: (node) => (node.alive ? usage(node.resources, node.available, 'CPU') : `-/${num(node.resources.CPU)}`) },
  { header: 'OTHER', cell: (node) => (node.alive ? otherResources(node.resources, node.available) : '-') },
  { header: 'OBJECTS', cell: (node) => (node.alive && node.stats ? `${node.stats.objects} (${bytes(node.stats.objectBytes)})` : '-') },
  { header: 'RUNNING', cell: (node) => (node.alive ? num(node.stats?.running) : '-') },
  { header: 'QUEUED', cell: (node) => (node.alive ? num(node.stats?.queued) : '-') },
  // Last: a dead node's cause may be long.
  { header: 'STATE', cell: nodeState },
];

const LIST_COLUMNS: Record<'actors' | 'tasks' | 'objects', Array<Column<Row>>> = {
  actors: [
    { header: 'ACTOR', cell: (row) => text(row.actorId) },
    { header: 'CLASS', cell: (row) => text(row.className) },
    { header: 'NAME', cell: (row) => text(row.name) },
    { header: 'STATE', cell: (row) => text(row.state) },
    { header: 'RESTARTS', cell: (row) => num(row.restarts) },
    { header: 'CALLS', cell: (row) => num(row.calls) },
    { header: 'NODE', cell: (row) => text(row.nodeId) },
  ],
  tasks: [
    { header: 'TASK', cell: (row) => text(row.taskId) },
    { header: 'JOB', cell: (row) => text(row.jobId) },
    { header: 'NAME', cell: (row) => text(row.name) },
    { header: 'STATE', cell: (row) => text(row.state) },
    { header: 'NODE', cell: (row) => text(row.nodeId) },
    { header: 'WORKER', cell: (row) => text(row.workerId) },
    {
      header: 'MS',
      cell: (row) => (typeof row.startedAt === 'number' && typeof row.finishedAt === 'number' ? num(row.finishedAt - row.startedAt) : '-'),
    },
    { header: 'ERROR', cell: (row) => text(row.error) },
  ],
  objects: [
    { header: 'OBJECT', cell: (row) => text(row.objectId) },
    { header: 'NODE', cell: (row) => text(row.nodeId) },
    { header: 'SIZE', cell: (row) => (typeof row.size === 'number' ? bytes(row.size) : '-') },
    { header: 'STATUS', cell: (row) => text(row.status) },
    { header: 'HOLDERS', cell: (row) => num(row.holders) },
    { header: 'PINS', cell: (row) => num(row.pins) },
  ],
};

/** The kinds `weft list` shows. */
export const LIST_KINDS = ['nodes', 'actors', 'tasks', 'objects'] as const;
/** One of {@link LIST_KINDS}. */
export type ListKind = (typeof LIST_KINDS)[number];

/** Runs `weft status`. */
export async function status(options: InspectOptions): Promise<void> {
  const target = resolveHead(options);
  const view = await getJson(target, '/api/status') as StatusView;
  if (options.json === true) {
    console.log(JSON.stringify(view, null, 2));
    return;
  }
  const alive = view.nodes.filter((node) => node.alive).length;
  // Live nodes first; dead ones (the head keeps the last few) after them, newest death first.
  const nodes = [...view.nodes].sort((a, b) => Number(b.alive) - Number(a.alive) || (a.diedMsAgo ?? 0) - (b.diedMsAgo ?? 0));
  const running = view.nodes.reduce((n, node) => n + (node.alive ? node.stats?.running ?? 0 : 0), 0);
  const queued = view.nodes.reduce((n, node) => n + (node.alive ? node.stats?.queued ?? 0 : 0), 0);
  console.log([
    `head ${target.ws}: ${alive} node${alive === 1 ? '' : 's'} alive${view.nodes.length > alive ? `, and the last ${view.nodes.length - alive} dead` : ''}`,
    '',
    table(NODE_COLUMNS, nodes),
    '',
    `CPUs ${usage(view.resources, view.available, 'CPU')} used; other resources ${otherResources(view.resources, view.available)}`,
    `tasks ${running} running, ${queued} queued; objects ${view.objects} (${bytes(view.objectBytes)}); actors ${view.actors}; jobs ${view.jobs.length}`,
  ].join('\n'));
}

/** Runs `weft list <kind>`. */
export async function list(kind: ListKind, options: InspectOptions): Promise<void> {
  const target = resolveHead(options);
  const rows = await getJson(target, `/api/${kind}`);
  if (options.json === true) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (!Array.isArray(rows) || rows.length === 0) {
    console.log(`no ${kind}`);
    return;
  }
  console.log(kind === 'nodes' ? table(NODE_COLUMNS, rows as NodeView[]) : table(LIST_COLUMNS[kind], rows as Row[]));
}
