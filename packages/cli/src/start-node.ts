/**
 * `weft start --address ws://HOST:7350`: a node that joins a head. Its files go in the session
 * named by `--session`, else `session_latest` (the head's, when both run on this machine), else a
 * new one; it is `node-<n>` there.
 */
import path from 'node:path';
import { WebSocketConnectError, portInUseMessage } from '@weft/protocol';
import { NodeAddressError, nodeAddresses, startClusterNode } from '@weft/worker-node';
import { startInBackground } from './background.ts';
import { CliError } from './errors.ts';
import { runForeground, type Started } from './foreground.ts';
import { fromEnv } from './options.ts';
import { ensureSession, explicitSession, findSession, linkLatest, newSession, readToken, reserveNodeName } from './session.ts';
import { checkTlsPair, cpus, readTlsFiles, wsUrl, type StartOptions } from './start-options.ts';

/** What a node process writes to `node-<n>.json` once it listens. */
export interface NodeRecord {
  /** ws:// URL where drivers and peers reach it. */
  address: string;
  /** The head it joined. */
  head: string;
  nodeId: string;
  pid: number;
}

/** Runs `weft start --address …`. */
export async function startNode(options: StartOptions): Promise<void> {
  checkTlsPair(options);
  const head = wsUrl(options.address ?? '');
  const explicit = explicitSession(options.session);
  const latest = explicit === undefined ? findSession(undefined) : undefined;
  const session = explicit !== undefined ? ensureSession(explicit) : (latest ?? newSession());
  const fresh = explicit === undefined && latest === undefined;
  const token = options.token ?? fromEnv('WEFT_TOKEN') ?? readToken(session);
  if (token === undefined) {
    throw new CliError('no token to join with: pass --token (weft start --head printed it) or set WEFT_TOKEN');
  }
  // Refuse an address others could not reach here, rather than in the background child's log.
  await nodeAddresses(head, options).catch((error: unknown) => { throw explain(error, head, options, options.port ?? 0); });
  const name = options.nodeName ?? reserveNodeName(session);
  if (options.block === true) {
    await runForeground(session, name, () => join(options, head, session, name, token), (record) => {
      if (fresh) linkLatest(session);
      console.log(banner(record, options, session, name));
    });
    return;
  }
  // On failure the name stays reserved while its process may still run (a timeout); weft stop
  // clears it.
  const record = await startInBackground<NodeRecord>({
    session, name, args: [...process.argv.slice(2), '--node-name', name], what: `node ${name}`, token,
  });
  if (fresh) linkLatest(session);
  console.log(banner(record, options, session, name));
}

/** Starts the node and connects it to the head. */
async function join(options: StartOptions, head: string, session: string, name: string, token: string): Promise<Started<Omit<NodeRecord, 'pid'>>> {
  const { cert, key, ca } = readTlsFiles(options);
  const port = options.port ?? 0;
  try {
    const node = await startClusterNode({
      head, token, port, numCpus: options.numCpus, resources: options.resources,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.nodeIpAddress !== undefined ? { nodeIpAddress: options.nodeIpAddress } : {}),
      ...(options.objectStoreMemory !== undefined ? { objectStoreMemory: options.objectStoreMemory } : {}),
      sessionDir: path.join(session, 'nodes', name),
      tls: { ...(cert !== undefined ? { cert } : {}), ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}) },
    });
    return { record: { address: node.address, head, nodeId: node.node.nodeId }, stop: () => node.stop() };
  } catch (error) {
    throw explain(error, head, options, port);
  }
}

/** Turns a failure to join into what the user should do. */
function explain(error: unknown, head: string, options: StartOptions, port: number): unknown {
  if (error instanceof WebSocketConnectError) {
    switch (error.code) {
      case 'UNREACHABLE': {
        // connectWebSocket says `cannot reach the head at URL: <why>`; keep the why, say what to do.
        const why = (error.message.split(`${head}: `)[1] ?? error.message).replace(/^is it running\? /, '').replace(/; pass its certificate as tls\.ca$/, '');
        const todo = /CERT|SELF_SIGNED/.test(why) ? 'pass its certificate (or CA) with --tls-ca' : 'is it running? start one with weft start --head';
        return new CliError(`cannot reach the head at ${head} ${why.startsWith('(') ? why : `(${why})`}: ${todo}`);
      }
      case 'UNAUTHORIZED': return new CliError(`the head at ${head} refused the token: use the one weft start --head printed, or --token`);
      default: return new CliError(error.message);
    }
  }
  if (error instanceof NodeAddressError) return new CliError(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new CliError(portInUseMessage(port, options.host ?? 'the chosen interface', 'pass --port'));
  }
  if (code === 'EADDRNOTAVAIL') {
    return new CliError(`cannot listen on ${options.host ?? options.nodeIpAddress ?? 'the chosen interface'}: it is not an address of this machine; pass --host <an interface of this machine>`);
  }
  return error;
}

function banner(record: NodeRecord, options: StartOptions, session: string, name: string): string {
  return [
    `weft node ${name} running at ${record.address} (pid ${record.pid}) with ${cpus(options.numCpus)}, joined ${record.head}`,
    `  session    ${session}`,
    `  log        ${path.join(session, 'logs', `${name}.log`)}`,
    'Then: weft status, weft stop',
  ].join('\n');
}
