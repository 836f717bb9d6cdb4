/**
 * The head's HTTP side, on the same port as its WebSockets: a JSON state API under `/api/`
 * (what `weft status` and `weft list` read; tasks come from the head's task table, the rest is
 * asked of the nodes), Prometheus metrics at `/metrics` (metrics.ts), and a small
 * dashboard at `/`. Every request needs the cluster token, as `Authorization: Bearer …` or, for
 * a browser opening the dashboard, `?token=…`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sumOf, type ActorLocation, type QueryReplies, type TaskEvent } from '@weft/protocol';
import type { Head } from './head.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { HeadMetrics } from './metrics.ts';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

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

async function listOf<W extends keyof QueryReplies>(head: Head, what: W): Promise<Array<QueryReplies[W][number]>> {
  const answers = await head.queryNodes(what);
  const merged: Array<QueryReplies[W][number]> = [];
  for (const items of answers.values()) if (Array.isArray(items)) merged.push(...items);
  return merged;
}

async function listActors(head: Head): Promise<Array<QueryReplies['actors'][number] | ActorLocation>> {
  const merged: Array<QueryReplies['actors'][number] | ActorLocation> = await listOf(head, 'actors');
  // Actors that died with their node are known only to the head.
  const seen = new Set(merged.map((actor) => actor.actorId));
  for (const actor of head.actors.all()) if (!seen.has(actor.actorId)) merged.push(actor);
  return merged;
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
export function stateApi(head: Head, token: string, extra?: ExtraRoutes): (req: IncomingMessage, res: ServerResponse) => void {
  const expected = digest(token);
  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const json = (res: ServerResponse, value: unknown): void => send(res, 200, 'application/json', JSON.stringify(value));
  const metrics = new HeadMetrics(head);
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://head');
    const given = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('token') ?? '';
    if (!timingSafeEqual(digest(given), expected)) return send(res, 401, 'text/plain', 'missing or wrong token: send Authorization: Bearer <token>\n');
    if (extra?.(req, res, url) === true) return;
    const route = async (): Promise<void> => {
      switch (url.pathname) {
        case '/': return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
        case '/api/status': return json(res, await clusterStatus(head));
        case '/api/nodes': return json(res, (await clusterStatus(head) as { nodes: unknown }).nodes);
        case '/api/actors': return json(res, await listActors(head));
        // From the head's task table (the nodes report their tasks to it): `?jobId=` for one job's.
        case '/api/tasks': return json(res, head.tasks.list(url.searchParams.get('jobId') ?? undefined));
        case '/api/tasks/graph': return json(res, head.tasks.snapshot(url.searchParams.get('jobId') ?? undefined));
        case '/api/objects': return json(res, await listOf(head, 'objects'));
        case '/api/jobs': return json(res, (await clusterStatus(head) as { jobs: unknown }).jobs);
        case '/api/timeline': return json(res, chromeTrace(head.tasks.list(url.searchParams.get('jobId') ?? undefined)));
        case '/metrics': return send(res, 200, metrics.contentType, await metrics.text());
        default: return send(res, 404, 'text/plain', `no such path: ${url.pathname}\n`);
      }
    };
    route().catch((error: unknown) => send(res, 500, 'text/plain', `${error instanceof Error ? error.message : String(error)}\n`));
  };
}
