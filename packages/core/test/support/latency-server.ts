/**
 * A local HTTP server (127.0.0.1, port 0) that answers after a delay, for tests of overlapping
 * async calls. It counts the requests in flight, in all and per asker: the fixtures send the
 * worker they run in as `x-weft-worker`, so a test sees how many calls overlapped in one worker.
 *
 *   GET /page/<i>   "page <i>", after the delay
 *   GET /fail/<i>   HTTP 500, after the delay
 *   GET /hang/<i>   "released", not before release() (or close())
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class LatencyServer {
  readonly #server: http.Server;
  readonly #delayMs: number;
  /** Open /hang/ requests, by path. */
  readonly #held = new Map<http.ServerResponse, string>();
  readonly #inFlightBy = new Map<string, number>();
  readonly #maxBy = new Map<string, number>();
  #inFlight = 0;
  /** The most requests in flight at once, from anyone. */
  maxInFlight = 0;
  /** Requests received, in all. */
  requests = 0;
  #base = '';

  private constructor(delayMs: number) {
    this.#delayMs = delayMs;
    this.#server = http.createServer((request, response) => this.#handle(request, response));
  }

  /** Start a server whose pages answer after `delayMs`. */
  static async start(delayMs = 100): Promise<LatencyServer> {
    const server = new LatencyServer(delayMs);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    server.#base = `http://127.0.0.1:${(server.#server.address() as AddressInfo).port}`;
    return server;
  }

  /** The URL of `path` (e.g. `/page/3`). */
  url(path: string): string {
    return `${this.#base}${path}`;
  }

  /** The most requests in flight at once from each asker (`x-weft-worker`), by asker. */
  maxInFlightBy(): Map<string, number> {
    return new Map(this.#maxBy);
  }

  /** Open requests held by /hang/ now. */
  get hanging(): number {
    return this.#held.size;
  }

  /** Forget the counts (between tests). */
  reset(): void {
    this.maxInFlight = 0;
    this.requests = 0;
    this.#maxBy.clear();
  }

  /** Answer the held /hang/ requests (only those of `path`, when given). */
  release(path?: string): void {
    for (const [response, held] of [...this.#held]) {
      if (path !== undefined && held !== path) continue;
      this.#held.delete(response);
      response.end('released');
    }
  }

  async close(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const asker = String(request.headers['x-weft-worker'] ?? 'unknown');
    this.requests += 1;
    this.#count(asker, 1);
    response.on('close', () => {
      this.#count(asker, -1);
      this.#held.delete(response);
    });
    const [, kind, id] = (request.url ?? '').split('/');
    if (kind === 'hang') {
      this.#held.set(response, request.url ?? '');
      return;
    }
    setTimeout(() => {
      if (kind === 'fail') response.writeHead(500).end(`no page ${String(id)}`);
      else response.end(`page ${String(id)}`);
    }, this.#delayMs);
  }

  #count(asker: string, delta: number): void {
    this.#inFlight += delta;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    const now = (this.#inFlightBy.get(asker) ?? 0) + delta;
    this.#inFlightBy.set(asker, now);
    this.#maxBy.set(asker, Math.max(this.#maxBy.get(asker) ?? 0, now));
  }
}
