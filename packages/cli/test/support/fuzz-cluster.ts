/**
 * Fuzzing a real cluster started in this process (issue 9, point 5): a head (with its node beside
 * it) and a standalone node on 127.0.0.1, port 0, and sessions of hostile frames (fuzz-frames.ts)
 * sent at the head's port as a node, and at the nodes' ports as a driver and as a peer, each
 * connection authenticated with the token and saying hello. What must hold:
 *
 * - every frame the server's decoder or validator refuses closes its connection, with a weft close
 *   code (or 1009 for an oversized frame), and a session of frames it accepts leaves its connection
 *   open (a request at its end is answered);
 * - no other connection closes: one canary connection per target stays open and answers at the end;
 * - the process does not crash (the caller counts uncaught exceptions and unhandled rejections).
 *
 * Load this module (and @weft/core) only after setting fuzz-limits.ts's FUZZ_ENV in process.env.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { decodeFrame, encodeFrame, type PeerRole } from '@weft/protocol';
import { startHeadServer, type HeadServer } from '@weft/scheduler';
import { startClusterNode, startNodeBesideHead, type ClusterNode } from '@weft/worker-node';
import { PROBES, PROBE_ID, helloOf, sessionArb, type Session } from './fuzz-frames.ts';
/** Close codes a refused frame may get: bad frame, too big, handshake (a second hello), and ws's message too big. */
const REFUSED = new Set([4000, 4003, 4004, 1009]);
/** How long a server may take to close a connection after a bad frame, or to answer the probe. */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * The node id that peer sessions say hello as. A node keeps connections only from nodes the head
 * lists, so a fake node of that id is registered with the head (with no resources: nothing is
 * placed on it) and kept alive by heartbeats for the length of the fuzz.
 */
export const FUZZ_PEER_ID = 'node-fuzzpeer0001';

/** Where sessions go: a port, and the role the connection says hello as. */
export interface Target { name: string; url: string; role: PeerRole }

/** The cluster under fuzz. */
export interface FuzzCluster {
  token: string;
  /** The folder holding the session folders of both nodes. */
  root: string;
  /** The head's node and the standalone node (with resource `good`, for the well-behaved driver). */
  head: HeadServer;
  beside: ClusterNode;
  node: ClusterNode;
  targets: Target[];
  stop(): Promise<void>;
}

export async function startFuzzCluster(): Promise<FuzzCluster> {
  const token = `fuzz-${Math.random().toString(36).slice(2)}`;
  const root = mkdtempSync(path.join(os.tmpdir(), 'weft-fuzz-'));
  const head = await startHeadServer({ host: '127.0.0.1', port: 0, token });
  const beside = await startNodeBesideHead(head, { address: head.url, token, numCpus: 1, sessionDir: path.join(root, 'head') });
  const node = await startClusterNode({ head: head.url, token, host: '127.0.0.1', numCpus: 1, resources: { good: 1 }, sessionDir: path.join(root, 'node') });
  const targets: Target[] = [
    { name: 'head as node', url: head.url, role: 'node' }, { name: 'head as driver', url: head.url, role: 'driver' },
    { name: 'node as driver', url: node.address, role: 'driver' }, { name: 'node as peer', url: node.address, role: 'peer' },
  ];
  const anchor = await RawClient.open(targets[0]!, token, FUZZ_PEER_ID);
  anchor.send(encodeFrame([{ type: 'register-node', node: { nodeId: FUZZ_PEER_ID, address: 'ws://127.0.0.1:9', resources: {} } }]));
  const heartbeat = setInterval(() => anchor.send(encodeFrame([{ type: 'heartbeat', available: {},
    stats: { objects: 0, objectBytes: 0, workers: 0, actors: 0, queued: 0, running: 0 } }])), 200);
  heartbeat.unref();
  for (let waited = 0; !node.node.peers.known().some((peer) => peer.nodeId === FUZZ_PEER_ID); waited += 20) {
    if (waited > 10_000) throw new Error('the fuzz peer was never listed by the head');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    token, root, head, beside, node, targets,
    stop: async () => {
      clearInterval(heartbeat);
      anchor.end();
      await node.stop();
      await beside.stop();
      await head.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** An open, authenticated connection that said hello and got its welcome. */
export class RawClient {
  readonly ws: WebSocket;
  closed: { code: number; reason: string } | undefined;
  readonly #closedWaiters: Array<() => void> = [];
  readonly #replyWaiters: Array<() => void> = [];
  #answered = false;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const wake of this.#closedWaiters.splice(0)) wake();
      for (const wake of this.#replyWaiters.splice(0)) wake();
    });
    ws.on('message', (data, isBinary) => {
      try {
        if (!decodeFrame(data, isBinary).some((m) => (m as { requestId?: unknown }).requestId === PROBE_ID)) return;
      } catch {
        return; // an attachment batch, or a part of one: not the probe's answer
      }
      this.#answered = true;
      for (const wake of this.#replyWaiters.splice(0)) wake();
    });
  }

  static async open(target: Target, token: string, id: string): Promise<RawClient> {
    // A zero mask, as weft's own client uses: masking every byte sent costs more than the fuzzing.
    const ws = new WebSocket(target.url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024,
      generateMask: (mask: Buffer) => { mask.fill(0); } });
    ws.on('error', () => {}); // a reset after the server closes on us is expected
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const welcome = new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('close', (code, reason) => reject(new Error(`${target.name}: closed at the hello (${code} ${reason.toString()})`)));
    });
    ws.send(helloOf(target.role, id));
    await welcome;
    return new RawClient(ws);
  }

  send(data: Buffer | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data, { binary: typeof data !== 'string' });
  }

  /** Resolves true once closed, false after the timeout. */
  waitClosed(timeoutMs = ANSWER_TIMEOUT_MS): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return this.#wait(this.#closedWaiters, timeoutMs).then(() => this.closed !== undefined);
  }

  /**
   * Whether the connection is open and served: the role's probe request is answered on it. A peer's
   * answer may leave on any connection from its node id (all peer sessions share one), so a peer
   * connection is probed with a WebSocket ping instead, which its server answers in order, after
   * the frames before it: a server that refused one of them has closed the connection by then.
   */
  probe(role: PeerRole, timeoutMs = ANSWER_TIMEOUT_MS): Promise<boolean> {
    this.#answered = false;
    if (role === 'peer') {
      this.ws.once('pong', () => {
        this.#answered = true;
        for (const wake of this.#replyWaiters.splice(0)) wake();
      });
      if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    } else {
      this.send(encodeFrame([PROBES[role]]));
    }
    return this.#wait(this.#replyWaiters, timeoutMs).then(() => this.#answered && !this.closed);
  }

  #wait(waiters: Array<() => void>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): void {
    this.ws.terminate();
  }
}

/** What a run of sessions found. */
export interface FuzzStats {
  sessions: number;
  frames: number;
  /** Connections the servers closed after a refused frame. */
  closes: number;
  /** Property violations, each naming the target, the frame's kind and bytes. */
  violations: string[];
}

let sessionCounter = 0;
/** Sessions as a node run one at a time (see runSession). */
let nodeTurn: Promise<void> = Promise.resolve();

/**
 * Runs one session at its role's port; adds what it saw to `stats`. Sessions as a node run one at
 * a time: a node that registers replaces a live one of its id or its address (a node that started
 * over), which would close another session's connection for a frame that was fine.
 */
export function runSession(cluster: FuzzCluster, session: Session, stats: FuzzStats): Promise<void> {
  if (session.role !== 'node') return runOne(cluster, session, stats);
  const turn = nodeTurn.then(() => runOne(cluster, session, stats));
  nodeTurn = turn.catch(() => {});
  return turn;
}

async function runOne(cluster: FuzzCluster, session: Session, stats: FuzzStats): Promise<void> {
  const candidates = cluster.targets.filter((t) => t.role === session.role);
  const target = candidates[(sessionCounter += 1) % candidates.length]!;
  const suffix = sessionCounter.toString(36).padStart(8, '0');
  const id = session.role === 'driver' ? `driver-fuzz${suffix}` : session.role === 'peer' ? FUZZ_PEER_ID : `node-fuzz${suffix}`;
  const client = await RawClient.open(target, cluster.token, id);
  stats.sessions += 1;
  try {
    for (const frame of session.frames) {
      // As a node, each session registers under its own id (the samples' id, rewritten in place: same
      // length, so the verdict holds): a node registering again under an id replaces its older connection.
      client.send(session.role === 'node' && typeof frame.data !== 'string' ? withId(frame.data, id) : frame.data);
      stats.frames += 1;
      if (frame.verdict === 'open') continue;
      if (!(await client.waitClosed())) {
        stats.violations.push(`${target.name}: a refused frame (${frame.kind}) left its connection open: ${hex(frame.data)}`);
      } else if (!REFUSED.has(client.closed!.code) && !replaced(session, client)) {
        stats.violations.push(`${target.name}: a refused frame (${frame.kind}) closed its connection with ${client.closed!.code} ${client.closed!.reason}`);
      } else {
        stats.closes += 1;
      }
      return;
    }
    if (session.silentEnd) return;
    if (!(await client.probe(session.role)) && !replaced(session, client)) {
      const last = session.frames[session.frames.length - 1];
      stats.violations.push(`${target.name}: a connection of accepted frames ${client.closed ? `was closed (${client.closed.code} ${client.closed.reason})` : 'did not answer'}`
        + ` after ${session.frames.map((f) => f.kind).join(', ')}: last ${last ? hex(last.data) : ''}`);
    }
  } finally {
    client.end();
  }
}

/**
 * Whether the head closed a session as a node for the rule of a node that started over: one that
 * registers at the address of a live node (this session, registered before under another id)
 * replaces it. Such a close is no frame's fault.
 */
function replaced(session: Session, client: RawClient): boolean {
  return session.role === 'node' && client.closed?.code === 1000 && client.closed.reason.endsWith('registered at its address');
}

const SAMPLE_NODE_ID = Buffer.from('node-fuzzfuzzfuzz');

/** `data` with every copy of the samples' node id replaced by `id` (of the same length). */
function withId(data: Buffer, id: string): Buffer {
  if (id.length !== SAMPLE_NODE_ID.length || data.indexOf(SAMPLE_NODE_ID) < 0) return data;
  const copy = Buffer.from(data);
  for (let at = copy.indexOf(SAMPLE_NODE_ID); at >= 0; at = copy.indexOf(SAMPLE_NODE_ID, at + 1)) copy.write(id, at, 'latin1');
  return copy;
}

const hex = (data: Buffer | string): string => (typeof data === 'string' ? JSON.stringify(data.slice(0, 60)) : `${data.length} bytes ${data.subarray(0, 48).toString('hex')}`);

/** One canary connection per target, opened before the fuzz and probed after: none may be closed by another's frames. */
export async function openCanaries(cluster: FuzzCluster): Promise<() => Promise<string[]>> {
  const canaries = await Promise.all(cluster.targets.map(async (target, i) => ({
    target, client: await RawClient.open(target, cluster.token, target.role === 'driver' ? `driver-canary${i}` : target.role === 'peer' ? FUZZ_PEER_ID : `node-canary00${i}`),
  })));
  return async () => {
    const problems: string[] = [];
    for (const { target, client } of canaries) {
      if (!(await client.probe(target.role))) problems.push(`${target.name}: the canary connection ${client.closed ? `was closed (${client.closed.code} ${client.closed.reason})` : 'did not answer'}`);
      client.end();
    }
    return problems;
  };
}

/** Runs sessions until `frames` frames were sent, `concurrency` at a time, from a seeded stream. */
export async function fuzzFrames(cluster: FuzzCluster, options: { frames: number; seed: number; concurrency: number }): Promise<FuzzStats> {
  const stats: FuzzStats = { sessions: 0, frames: 0, closes: 0, violations: [] };
  const arbitrary = sessionArb(['node', 'driver', 'peer']);
  let batch = 0;
  while (stats.frames < options.frames && stats.violations.length === 0) {
    // Small batches: sampling runs in this process, beside the cluster, and must not stall it.
    const sessions = fc.sample(arbitrary, { numRuns: 8 * options.concurrency, seed: options.seed + batch++ });
    for (let i = 0; i < sessions.length && stats.frames < options.frames; i += options.concurrency) {
      await Promise.all(sessions.slice(i, i + options.concurrency).map((session) => runSession(cluster, session, stats)));
    }
  }
  return stats;
}
