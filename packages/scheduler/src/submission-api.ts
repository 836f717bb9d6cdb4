/**
 * The HTTP routes of job submissions, under the state API's token check (`weft job …`):
 *
 * - `POST /api/submissions?arg=tsx&arg=main.ts[&id=NAME]`, body the packed working directory
 *   (application/octet-stream, at most MAX_UPLOAD_BYTES): 201 with the record, once the command
 *   started or failed to start;
 * - `GET /api/submissions`: every record the head remembers; `GET /api/submissions/ID`: one;
 * - `GET /api/submissions/ID/logs?offset=N`: the log from byte N (at most MAX_LOG_READ_BYTES), with
 *   the next offset in `x-weft-next-offset` and the state in `x-weft-state`, for followers;
 * - `POST /api/submissions/ID/stop`: stops it; 200 with the record once its process has exited.
 *
 * Errors are text bodies that say what to do, with 400 (bad id or request), 404 (unknown id),
 * 405, 409 (id taken), 413 (too big) or 503 (head starting or stopping).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_PACKAGE_MAX_BYTES, isId } from '@weft/protocol';
import { SubmissionError, type JobRunner } from './job-runner.ts';

/** Largest upload: the packer's limit on contents (gzip may add a little to incompressible data). */
export const MAX_UPLOAD_BYTES = DEFAULT_PACKAGE_MAX_BYTES + 1024 * 1024;
/** The prefix of these routes. */
export const SUBMISSIONS_PATH = '/api/submissions';

/** An error with the HTTP status to answer. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The request's body, refused past `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooBig = new HttpError(413, `the working directory is larger than ${limit} bytes packed: leave big files out with .gitignore`);
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooBig);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.destroy();
        reject(tooBig);
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** A path segment decoded (`a%2Fb` is the id `a/b`, which the id check refuses); undefined when absent. */
function decoded(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function unknown(submissionId: string): HttpError {
  return new HttpError(404, `no job submission ${submissionId} on this head (it may be older than the last ones kept): weft job list shows them`);
}

/** The routes, for the state API: answers and returns true for a path of its own, else false. */
export function submissionRoutes(runner: JobRunner | undefined): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  return (req, res, url) => {
    if (url.pathname !== SUBMISSIONS_PATH && !url.pathname.startsWith(`${SUBMISSIONS_PATH}/`)) return false;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = typeof body === 'string' ? `${body}\n` : Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json';
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(text);
    };
    route(runner, req, url, send).catch((error: unknown) => {
      if (error instanceof HttpError || error instanceof SubmissionError) send(error.status, error.message);
      else send(500, error instanceof Error ? error.message : String(error));
    });
    return true;
  };
}

type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;

async function route(runner: JobRunner | undefined, req: IncomingMessage, url: URL, send: Send): Promise<void> {
  if (runner === undefined) throw new HttpError(503, 'this head runs no job submissions');
  const [encodedId, action, ...rest] = url.pathname.slice(SUBMISSIONS_PATH.length + 1).split('/');
  const submissionId = decoded(encodedId);
  const method = (expected: string): void => {
    if (req.method !== expected) throw new HttpError(405, `${url.pathname} takes ${expected}, not ${String(req.method)}`);
  };
  if (submissionId === undefined || submissionId === '') {
    if (req.method === 'POST') {
      const id = url.searchParams.get('id') ?? undefined;
      if (id !== undefined && !isId(id)) throw new HttpError(400, `job id ${JSON.stringify(String(id).slice(0, 80))} is not a weft id: use 1-64 characters of A-Z a-z 0-9 _ -`);
      const body = await readBody(req, MAX_UPLOAD_BYTES);
      return send(201, await runner.submit(body, url.searchParams.getAll('arg'), id));
    }
    method('GET');
    return send(200, runner.all());
  }
  if (!isId(submissionId) || rest.length > 0) throw new HttpError(400, `${JSON.stringify(String(submissionId).slice(0, 80))} is not a job submission id (1-64 characters of A-Z a-z 0-9 _ -)`);
  switch (action) {
    case undefined: {
      method('GET');
      const job = runner.get(submissionId);
      if (job === undefined) throw unknown(submissionId);
      return send(200, job);
    }
    case 'logs': {
      method('GET');
      const offset = Number(url.searchParams.get('offset') ?? 0);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new HttpError(400, 'offset must be a byte offset (an integer >= 0)');
      const read = await runner.readLog(submissionId, offset);
      if (read === undefined) throw unknown(submissionId);
      // The state is read after the log: a final state here means the bytes above were the last ones.
      const state = runner.get(submissionId)?.state ?? 'STOPPED';
      return send(200, read.data, { 'x-weft-next-offset': String(read.next), 'x-weft-state': state });
    }
    case 'stop': {
      method('POST');
      const job = await runner.stop(submissionId);
      if (job === undefined) throw unknown(submissionId);
      return send(200, job);
    }
    default:
      throw new HttpError(404, `no such path: ${url.pathname}`);
  }
}
