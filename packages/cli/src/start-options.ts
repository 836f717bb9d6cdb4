/**
 * What `weft start` takes (StartOptions) and the helpers its two halves share: the head's
 * (start-head.ts) and the joining node's (start-node.ts). A module of its own, so that
 * start.ts, which picks one half, and the halves import it and not each other.
 */
import { randomBytes } from 'node:crypto';
import { CliError } from './errors.ts';
import { readOptionFile } from './options.ts';

/** Options of `weft start`, as commander parses them. */
export interface StartOptions {
  /** Start a head (and a node beside it). */
  head?: boolean;
  /** Join the head at this ws:// address. */
  address?: string;
  /** Interface to listen on. @default head: '127.0.0.1'; node: its interface on the route to the head */
  host?: string;
  /** Address other machines reach this one at. @default --host, or the route address for a wildcard */
  nodeIpAddress?: string;
  /** Bytes of objects the node keeps in memory before spilling. @default 30% of RAM */
  objectStoreMemory?: number;
  /** Port to listen on. @default 7350 for a head, 0 (any free) for a node */
  port?: number;
  /** CPUs of this node. @default os.availableParallelism() */
  numCpus: number;
  /** Custom resources of this node. @default {} */
  resources: Record<string, number>;
  /** Cluster token. @default head: random; node: WEFT_TOKEN, else the session's */
  token?: string;
  /** PEM files: what this process serves wss with, and what it trusts. */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** A node silent this long is dead (head). @default 4500 */
  heartbeatTimeoutMs: number;
  /** Stay in the foreground. */
  block?: boolean;
  /** Session folder. @default a new one (head), session_latest (node) */
  session?: string;
  /** Set on the background child of a plain `weft start` (hidden). */
  daemon?: boolean;
  /** The node's name in the session, reserved by the parent (hidden). */
  nodeName?: string;
}

/** Refuses `--tls-cert` without `--tls-key` or the other way round. */
export function checkTlsPair(options: StartOptions): void {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new CliError('--tls-cert and --tls-key go together: give both to serve wss, or neither');
  }
}

/** The PEM files the TLS options name, read; each absent when its option is. */
export function readTlsFiles(options: StartOptions): { cert: Buffer | undefined; key: Buffer | undefined; ca: Buffer | undefined } {
  const cert = options.tlsCert === undefined ? undefined : readOptionFile('--tls-cert', options.tlsCert);
  const key = options.tlsKey === undefined ? undefined : readOptionFile('--tls-key', options.tlsKey);
  const ca = options.tlsCa === undefined ? undefined : readOptionFile('--tls-ca', options.tlsCa);
  return { cert, key, ca };
}

/** `1 CPU`, `4 CPUs` */
export function cpus(n: number): string {
  return `${n} CPU${n === 1 ? '' : 's'}`;
}

/** A new cluster token: 24 random bytes, base64url. */
export function randomToken(): string {
  return randomBytes(24).toString('base64url');
}

/** `ws://host` from what a user typed: `host:port`, `ws://…`, `wss://…`, `http(s)://…`. */
export function wsUrl(address: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(address) ? address : `ws://${address}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new CliError(`--address ${address} is not an address: expected ws://HOST:PORT (as weft start --head printed)`);
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new CliError(`--address ${address}: expected ws://HOST:PORT (as weft start --head printed)`);
  }
  return parsed.toString().replace(/\/$/, '');
}
