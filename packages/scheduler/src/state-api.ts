/**
 * The head's HTTP side, on the same port as its WebSockets: a JSON state API under `/api/`
 * (what `weft status`, `weft list` and the dashboard read; tasks come from the head's task
 * table, the rest is asked of the nodes) and Prometheus metrics at `/metrics` (metrics.ts).
 * Every request needs the cluster token as `Authorization: Bearer …`, or the cookie of a
 * dashboard session (see HttpAuth); the dashboard's own files are served in dashboard.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sumOf, type ActorLocation, type QueryReplies, type TaskEvent } from '@weft/protocol';
import type { Head } from './head.ts';
import { HeadMetrics } from './metrics.ts';
import { HttpAuth } from './sessions.ts';

/** The state of the cluster as `weft status` shows it. */
export async function clusterStatus(head: Head): Promise<object> {
  const nodes = head.nodes.all().map((node) => ({
    nodeId: node.nodeId, address: node.address, alive: node.alive, resources: node.resources, available: node.available,
    stats: node.stats ?? null, lastHeartbeatMsAgo: Date.now() - node.lastHeartbeat,
    ...(node.diedAt !== undefined ? { diedMsAgo: Date.now() - node.diedAt, deathCause: node.deathCause } : {}),
  }));
  const live = nodes.filter((node) => node.alive);
  const sum = (pick: (node: (typeof live)[number]) => Record<string, number>): Record<string, number> => sumOf(live.map(pick));
  return {
    nodes, resources: sum((node) => node.resources), available: sum((node) => node.available),
    actors: head.actors.all().filter((actor) => actor.state !== 'dead').length,
    objects: live.reduce((n, node) => n + (node.stats?.objects ?? 0), 0),
    objectBytes: live.reduce((n, node) => n + (node.stats?.objectBytes ?? 0), 0),
    jobs: head.jobs.all(),
  };
}

/** What every live node lists of `what`, merged. */
export async function listOf<W extends keyof QueryReplies>(head: Head, what: W): Promise<Array<QueryReplies[W][number]>> {
  const answers = await head.queryNodes(what);
  const merged: Array<QueryReplies[W][number]> = [];
  for (const items of answers.values()) if (Array.isArray(items)) merged.push(...items);
  return merged;
}

/** The actors the nodes list, and those known only to the head. */
export async function listActors(head: Head): Promise<Array<QueryReplies['actors'][number] | ActorLocation>> {
  const merged: Array<QueryReplies['actors'][number] | ActorLocation> = await listOf(head, 'actors');
  // Actors that died with their node are known only to the head.
  const seen = new Set(merged.map((actor) => actor.actorId));
  for (const actor of head.actors.all()) if (!seen.has(actor.actorId)) merged.push(actor);
  return merged;
}

/**
 * What tasks and actors wrote, as the nodes keep it (the last lines of each task), oldest first:
 * `?job=` and `?task=` narrow it (`/api/tasks/<id>/logs` is `?task=<id>`).
 */
async function taskLogs(head: Head, params: URLSearchParams, taskId = params.get('task') ?? undefined): Promise<object[]> {
  const jobId = params.get('job') ?? undefined;
  const lines = await head.queryLogs({ ...(jobId !== undefined ? { jobId } : {}), ...(taskId !== undefined ? { taskId } : {}) });
  return lines.sort((a, b) => a.time - b.time || (a.nodeId === b.nodeId ? a.seq - b.seq : a.nodeId.localeCompare(b.nodeId)));
}

/** Recent tasks as a Chrome trace (chrome://tracing, Perfetto): one row per worker. */
export function chromeTrace(tasks: TaskEvent[]): object {
  const events = tasks.filter((task) => task.startedAt !== undefined && task.finishedAt !== undefined).map((task) => ({
    name: task.name, cat: task.state, ph: 'X', ts: (task.startedAt as number) * 1000, dur: ((task.finishedAt as number) - (task.startedAt as number)) * 1000,
    pid: task.nodeId, tid: task.workerId ?? 'worker', args: { taskId: task.taskId, error: task.error ?? null },
  }));
  return { traceEvents: events, displayTimeUnit: 'ms' };
}

/** Routes served beside the state API, under its token check: they answer and return true for a path of theirs. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;

/** An HTTP handler for the head's port (and `extra` routes, e.g. job submissions). */
export function stateApi(head: Head, token: string | HttpAuth, extra?: ExtraRoutes): (req: IncomingMessage, res: ServerResponse) => void {
  const auth = typeof token === 'string' ? new HttpAuth(token) : token;
  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const json = (res: ServerResponse, value: unknown): void => send(res, 200, 'application/json', JSON.stringify(value));
  const metrics = new HeadMetrics(head);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://head');
    if (!auth.allows(req)) return send(res, 401, 'text/plain', 'missing or wrong token: send Authorization: Bearer <token>, or sign in to the dashboard\n');
    if (extra?.(req, res, url) === true) return;
    const route = async (): Promise<void> => {
      const ofTask = /^\/api\/tasks\/([A-Za-z0-9_-]{1,64})\/logs$/.exec(url.pathname);
      if (ofTask) return json(res, await taskLogs(head, url.searchParams, ofTask[1]));
      switch (url.pathname) {
        case '/api/status': return json(res, await clusterStatus(head));
        case '/api/nodes': return json(res, (await clusterStatus(head) as { nodes: unknown }).nodes);
        case '/api/actors': return json(res, await listActors(head));
        // From the head's task table (the nodes report their tasks to it): `?jobId=` for one job's.
        case '/api/tasks': return json(res, head.tasks.list(url.searchParams.get('jobId') ?? undefined));
        case '/api/tasks/graph': return json(res, head.tasks.snapshot(url.searchParams.get('jobId') ?? undefined));
        case '/api/objects': return json(res, await listOf(head, 'objects'));
        case '/api/maps': return json(res, head.maps.list(url.searchParams.get('job') ?? undefined));
        case '/api/jobs': return json(res, (await clusterStatus(head) as { jobs: unknown }).jobs);
        case '/api/logs': return json(res, await taskLogs(head, url.searchParams));
        case '/api/timeline': return json(res, chromeTrace(head.tasks.list(url.searchParams.get('jobId') ?? undefined)));
        case '/metrics': return send(res, 200, metrics.contentType, await metrics.text());
        default: return send(res, 404, 'text/plain', `no such path: ${url.pathname}\n`);
      }
    };
    route().catch((error: unknown) => send(res, 500, 'text/plain', `${error instanceof Error ? error.message : String(error)}\n`));
  };
}
