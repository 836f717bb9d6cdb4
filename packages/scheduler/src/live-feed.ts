/**
 * The dashboard's live feed: a WebSocket at `/api/live` on the head's port (beside the cluster's
 * own WebSockets, which it leaves alone) that pushes a snapshot of the lists, then their changes,
 * and a sample of the nodes every second (see LiveMessage). An upgrade is taken only with a
 * session cookie or the bearer token, and only from a page of this origin (a browser sends the
 * Origin header; a cookie must not let another site read the cluster).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { logger, type LiveLists, type LiveMessage, type LiveNode } from '@weft/protocol';
import type { Head } from './head.ts';
import { PolledList, type ListChange } from './polled-list.ts';
import type { HttpAuth } from './sessions.ts';
import { clusterStatus, listActors, listOf } from './state-api.ts';
import { tableTaskSource, type TaskSource } from './task-source.ts';

/** The path of the feed. */
export const LIVE_PATH = '/api/live';
/** How often nodes are sampled, and actors, objects and jobs polled. */
export const LIVE_SAMPLE_INTERVAL_MS = 1_000;
/** How often the maps' progress is polled (the head keeps it; nodes are not asked). */
const MAPS_POLL_INTERVAL_MS = 250;
/** A page this far behind (bytes queued to it) is cut: it reconnects and gets a fresh snapshot. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

type OtherLists = Exclude<keyof LiveLists, 'tasks'>;

/** The pages following the feed, and the polling that feeds them while there is at least one. */
export class LiveFeed {
  readonly #wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: 1024 });
  readonly #clients = new Set<WebSocket>();
  readonly #lists: { [K in OtherLists]: PolledList<LiveLists[K][number]> };
  readonly #stops: Array<() => void> = [];
  readonly #log = logger('live-feed');
  #sampler: NodeJS.Timeout | undefined;

  constructor(private readonly head: Head, private readonly auth: HttpAuth,
    private readonly tasks: TaskSource = tableTaskSource(head.tasks)) {
    this.#lists = {
      actors: new PolledList(() => listActors(head), (actor) => actor.actorId, LIVE_SAMPLE_INTERVAL_MS),
      objects: new PolledList(() => listOf(head, 'objects'), (object) => `${object.objectId}@${object.nodeId}`, LIVE_SAMPLE_INTERVAL_MS),
      jobs: new PolledList(() => head.jobs.all(), (job) => job.jobId, LIVE_SAMPLE_INTERVAL_MS),
      // In the head's memory, so cheap to poll often: a bar moves as its map reports (every 250 ms).
      maps: new PolledList(() => head.maps.list(), (map) => map.mapId, MAPS_POLL_INTERVAL_MS),
    };
  }

  /** Takes an upgrade to LIVE_PATH (answering 401 or 403 when it may not have it); returns false for any other path. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (new URL(req.url ?? '/', 'http://head').pathname !== LIVE_PATH) return false;
    const origin = req.headers.origin;
    if (origin !== undefined && URL.canParse(origin) && new URL(origin).host !== req.headers.host) {
      socket.end(refusal(403, 'Forbidden', 'the live feed serves pages of this origin only'));
      return true;
    }
    if (!this.auth.allows(req)) {
      socket.end(refusal(401, 'Unauthorized', 'sign in first: POST /api/session with the cluster token'));
      return true;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#add(ws));
    return true;
  }

  /** Closes every page's socket and stops polling. */
  close(): void {
    for (const ws of this.#clients) ws.close(1001, 'the head is shutting down');
    this.#clients.clear();
    this.#stop();
  }

  #add(ws: WebSocket): void {
    ws.on('error', (error) => this.#log.debug({ err: error }, 'live socket error'));
    ws.on('close', () => {
      this.#clients.delete(ws);
      if (this.#clients.size === 0) this.#stop();
    });
    if (this.#clients.size === 0) this.#start();
    this.#clients.add(ws);
    const lists = {
      tasks: this.tasks.snapshot().map((task) => [task.taskId, task] as [string, typeof task]),
      actors: this.#lists.actors.snapshot(), objects: this.#lists.objects.snapshot(), jobs: this.#lists.jobs.snapshot(),
      maps: this.#lists.maps.snapshot(),
    };
    this.#send(ws, { type: 'snapshot', lists });
    void this.#sample();
  }

  #start(): void {
    this.#stops.push(this.tasks.subscribe((changed) => {
      this.#broadcast({ type: 'changes', list: 'tasks', changed: changed.map((task) => [task.taskId, task]), removed: [] });
    }));
    const on = <K extends OtherLists>(list: K) => (change: ListChange<LiveLists[K][number]>): void => {
      this.#broadcast({ type: 'changes', list, ...change } as LiveMessage);
    };
    this.#stops.push(this.#lists.actors.subscribe(on('actors')), this.#lists.objects.subscribe(on('objects')),
      this.#lists.jobs.subscribe(on('jobs')), this.#lists.maps.subscribe(on('maps')));
    this.#sampler = setInterval(() => void this.#sample(), LIVE_SAMPLE_INTERVAL_MS);
    this.#sampler.unref();
  }

  #stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
    clearInterval(this.#sampler);
    this.#sampler = undefined;
  }

  async #sample(): Promise<void> {
    try {
      const { nodes } = await clusterStatus(this.head) as { nodes: LiveNode[] };
      this.#broadcast({
        type: 'nodes', at: Date.now(),
        nodes: nodes.map(({ nodeId, address, alive, resources, available, stats }) => ({ nodeId, address, alive, resources, available, stats })),
      });
    } catch (error) {
      // A sample is skipped, not the head brought down: the next one comes in a second.
      this.#log.warn({ err: error }, 'node sample failed');
    }
  }

  #broadcast(message: LiveMessage): void {
    if (this.#clients.size === 0) return;
    const text = JSON.stringify(message);
    for (const ws of this.#clients) this.#sendText(ws, text);
  }

  #send(ws: WebSocket, message: LiveMessage): void {
    this.#sendText(ws, JSON.stringify(message));
  }

  #sendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return void ws.close(1013, 'too far behind: reconnect');
    ws.send(text);
  }
}

function refusal(status: number, reason: string, text: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}
