/**
 * The dashboard's files and its sign-in, on the head's port. The page (`/`, `/assets/*`) is the
 * single-page app that packages/dashboard builds into this package's `dist/dashboard-app/` (the
 * root build and this package's prepack run it): it holds no cluster data, so it
 * is served to anyone; what it reads (`/api/*`, the live feed) needs the token or a session.
 * `POST /api/session` with `{"token": "…"}` opens a session (a cookie, see HttpAuth);
 * `DELETE /api/session` ends it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpAuth } from './sessions.ts';

/** Largest sign-in body read. */
const MAX_SESSION_BODY_BYTES = 4096;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/** The built app's files by URL path; undefined when @weft/dashboard is not built. */
function loadFiles(): Map<string, { type: string; body: Buffer }> | undefined {
  try {
    const dir = fileURLToPath(new URL('./dashboard-app/', import.meta.url));
    const index = path.join(dir, 'index.html');
    const files = new Map<string, { type: string; body: Buffer }>();
    files.set('/', { type: TYPES['.html'] as string, body: readFileSync(index) });
    for (const name of readdirSync(path.join(dir, 'assets'))) {
      files.set(`/assets/${name}`, { type: TYPES[path.extname(name)] ?? 'application/octet-stream', body: readFileSync(path.join(dir, 'assets', name)) });
    }
    return files;
  } catch {
    return undefined;
  }
}

/** Routes of the dashboard, served before the state API's token check: they answer and return true for a path of theirs. */
export function dashboardRoutes(auth: HttpAuth): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  let files: Map<string, { type: string; body: Buffer }> | undefined;
  return (req, res, url) => {
    if (url.pathname === '/api/session') {
      session(auth, req, res);
      return true;
    }
    if (url.pathname !== '/' && url.pathname !== '/index.html' && !url.pathname.startsWith('/assets/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    files ??= loadFiles();
    if (files === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('the dashboard is not built: run `pnpm build` in the weft checkout\n');
      return true;
    }
    const file = files.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (file === undefined) return false;
    res.writeHead(200, {
      'content-type': file.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff',
      // Everything the page needs comes from the head: nothing from elsewhere, no inline script.
      'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'",
      'referrer-policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}

function session(auth: HttpAuth, req: IncomingMessage, res: ServerResponse): void {
  const json = (status: number, value: unknown, cookie?: string): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'DELETE') return json(200, { signedIn: false }, auth.close(req));
  if (req.method === 'GET') return auth.allows(req) ? json(200, { signedIn: true }) : json(401, { signedIn: false, error: 'not signed in' });
  if (req.method !== 'POST') return json(405, { error: 'use POST to sign in, DELETE to sign out' });
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_SESSION_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_SESSION_BODY_BYTES) return json(413, { error: 'the sign-in body is too large' });
    let token: unknown;
    try {
      token = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { token?: unknown }).token;
    } catch {
      return json(400, { error: 'send JSON: {"token": "<the cluster token>"}' });
    }
    if (typeof token !== 'string' || !auth.isToken(token.trim())) {
      return json(401, { error: 'wrong token: use the one `weft start --head` printed (also in the session folder\'s token file)' });
    }
    json(200, { signedIn: true }, auth.open().cookie);
  });
}
