/**
 * Reading the head's HTTP state API (`/api/*`) for `weft status`, `list` and `timeline`: where the
 * head is (`--address`, else WEFT_ADDRESS, else the session's `head.json`), the token (`--token`,
 * else WEFT_TOKEN, else the session's `token`), and errors that say what to do.
 */
import http from 'node:http';
import https from 'node:https';
import { CliError, messageOf } from './errors.ts';
import { fromEnv, readOptionFile } from './options.ts';
import { findSession, readRecord, readToken } from './session.ts';
import type { HeadRecord } from './start-head.ts';

/** Options shared by the commands that read the head. */
export interface HeadOptions {
  /** Head address (ws://, wss://, http://, https:// or HOST:PORT). @default WEFT_ADDRESS, else the session's head */
  address?: string;
  /** @default WEFT_TOKEN, else the session's token */
  token?: string;
  /** Session folder to find the head in. @default WEFT_SESSION_DIR, else session_latest */
  session?: string;
  /** CA (PEM file) to trust for https. @default the system's */
  tlsCa?: string;
}

/** Where the head is and how to talk to it. */
export interface HeadTarget {
  /** http(s)://host:port */
  base: string;
  /** ws(s)://host:port, for drivers. */
  ws: string;
  token: string;
  ca?: Buffer;
}

/** How long a state request may take. */
const REQUEST_TIMEOUT_MS = 15_000;

/** Finds the head and the token from the options, the environment and the session. */
export function resolveHead(options: HeadOptions): HeadTarget {
  let address = options.address ?? fromEnv('WEFT_ADDRESS');
  let session: string | undefined;
  if (address === undefined || (options.token ?? fromEnv('WEFT_TOKEN')) === undefined) session = findSession(options.session);
  if (address === undefined) {
    const head = session === undefined ? undefined : readRecord<HeadRecord>(session, 'head');
    if (head === undefined) {
      const where = session === undefined ? 'no weft session on this machine' : `no head runs in session ${session}`;
      throw new CliError(`${where}: start one with weft start --head, or pass --address and --token of a running head`);
    }
    address = head.url;
  }
  const token = options.token ?? fromEnv('WEFT_TOKEN') ?? readToken(session);
  if (token === undefined) throw new CliError('no token: pass --token (weft start --head printed it) or set WEFT_TOKEN');
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `http://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`--address ${address} is not an address: expected ws://HOST:PORT (as weft start --head printed)`);
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const hostPort = url.host;
  return {
    base: `${secure ? 'https' : 'http'}://${hostPort}`, ws: `${secure ? 'wss' : 'ws'}://${hostPort}`, token,
    ...(options.tlsCa !== undefined ? { ca: readOptionFile('--tls-ca', options.tlsCa) } : {}),
  };
}

/** An answer of the head's HTTP side. */
export interface HeadResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends one request to the head (with the token) and collects its answer; a refused token or
 * an unreachable head is a CliError saying what to do, any other status is the caller's.
 */
export function requestHead(target: HeadTarget, method: 'GET' | 'POST', pathname: string, body?: Uint8Array): Promise<HeadResponse> {
  const url = new URL(pathname, target.base);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`, accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) } : {}),
      },
      timeout: REQUEST_TIMEOUT_MS,
      ...(target.ca !== undefined ? { ca: target.ca } : {}),
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => reject(unreachable(target, error)));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        if (status === 401) return reject(new CliError(`the head at ${target.ws} refused the token: use the one weft start --head printed, or --token`));
        resolve({ status, headers: response.headers, body: Buffer.concat(chunks) });
      });
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => reject(unreachable(target, error)));
    request.end(body);
  });
}

/** The JSON of a 2xx answer, or a CliError with the head's own words. */
export function jsonOf(target: HeadTarget, pathname: string, response: HeadResponse): unknown {
  const text = response.body.toString('utf8');
  if (response.status < 200 || response.status > 299) throw new CliError(`the head at ${target.ws} answered ${new URL(pathname, target.base).pathname} with HTTP ${response.status}: ${text.trim()}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`the head at ${target.ws} sent bad JSON for ${new URL(pathname, target.base).pathname} (${messageOf(error)}): is it a weft head?`);
  }
}

/** GET a path of the head's API and parse its JSON, or throw a CliError saying what to do. */
export async function getJson(target: HeadTarget, pathname: string): Promise<unknown> {
  return jsonOf(target, pathname, await requestHead(target, 'GET', pathname));
}

function unreachable(target: HeadTarget, error: Error & { code?: string }): CliError {
  const why = error.code !== undefined && !error.message.includes(error.code) ? `${error.message} (${error.code})` : error.message;
  const certificate = /CERT|SELF_SIGNED/.test(error.code ?? '');
  return new CliError(`cannot reach the head at ${target.ws} (${why}): ${certificate
    ? 'pass its certificate (or CA) with --tls-ca'
    : 'is it running? start one with weft start --head'}`);
}
