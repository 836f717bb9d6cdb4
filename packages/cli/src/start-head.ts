/**
 * `weft start --head`: a head server and a node beside it, in one process. In the background
 * (the default) this command makes the session, spawns itself with `--block` and prints how to
 * join once the child listens; with `--block` it is that process.
 */
import path from 'node:path';
import { portInUseMessage } from '@weft/protocol';
import { JobRunner, startHeadServer } from '@weft/scheduler';
import { NodeAddressError, chooseHeadAddress, jobModulesDir, startNodeBesideHead, wsUrlOf } from '@weft/worker-node';
import { startInBackground } from './background.ts';
import { CliError } from './errors.ts';
import { runForeground, type Started } from './foreground.ts';
import { isWeftProcess } from './processes.ts';
import { ensureSession, explicitSession, linkLatest, newSession, readPid, readToken, writeToken } from './session.ts';
import { checkTlsPair, cpus, randomToken, readTlsFiles, type StartOptions } from './start-options.ts';

/** The head's default port. */
export const DEFAULT_HEAD_PORT = 7350;

/** What the head process writes to `head.json` once it listens. */
export interface HeadRecord {
  /** ws:// (wss://) URL of the head, for nodes and drivers. */
  url: string;
  pid: number;
  /** The node beside the head. */
  nodeId: string;
}

/** Runs `weft start --head`. */
export async function startHead(options: StartOptions): Promise<void> {
  checkTlsPair(options);
  const explicit = explicitSession(options.session);
  const session = explicit !== undefined ? ensureSession(explicit) : newSession();
  const running = readPid(session, 'head');
  if (running !== undefined && running !== process.pid && isWeftProcess(running)) {
    throw new CliError(`a head already runs in session ${session} (pid ${running}): stop it with weft stop --session ${session}, or use another --session`);
  }
  // The background child was told the token through the session's file, not its command line.
  const token = options.token ?? (options.daemon === true ? readToken(session) : undefined) ?? randomToken();
  writeToken(session, token);
  if (options.block === true) {
    await runForeground(session, 'head', () => serve(options, session, token), (record) => {
      if (explicit === undefined) linkLatest(session);
      // The background child's output is its log: the banner with the token is for the user's terminal.
      console.log(options.daemon === true ? `weft head running at ${record.url} (pid ${record.pid})` : banner(record, options, session, token));
    });
    return;
  }
  const record = await startInBackground<HeadRecord>({ session, name: 'head', args: process.argv.slice(2), what: 'the head' });
  if (explicit === undefined) linkLatest(session);
  console.log(banner(record, options, session, token));
}

/** Starts the head server and the node beside it. */
async function serve(options: StartOptions, session: string, token: string): Promise<Started<Omit<HeadRecord, 'pid'>>> {
  const { cert, key, ca: trusted } = readTlsFiles(options);
  // The node beside the head trusts the head's own certificate unless told otherwise.
  const ca = trusted ?? cert;
  const port = options.port ?? DEFAULT_HEAD_PORT;
  const host = options.host ?? '127.0.0.1';
  let advertise: string;
  try {
    advertise = chooseHeadAddress(host, options.nodeIpAddress);
  } catch (error) {
    throw error instanceof NodeAddressError ? new CliError(error.message) : error;
  }
  let server: Awaited<ReturnType<typeof startHeadServer>>;
  const submissions = jobRunner(options, session, token);
  try {
    server = await startHeadServer({
      host, port, token, heartbeatTimeoutMs: options.heartbeatTimeoutMs, submissions,
      ...(cert !== undefined && key !== undefined ? { tls: { cert, key } } : {}),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(portInUseMessage(port, host, 'pass --port'));
    }
    throw error;
  }
  const url = wsUrlOf(server.url.startsWith('wss:') ? 'wss' : 'ws', advertise, server.port);
  submissions.setAddress(url);
  try {
    const beside = await startNodeBesideHead(server, {
      address: url, token, numCpus: options.numCpus, resources: options.resources,
      sessionDir: path.join(session, 'nodes', 'head'), ...(ca !== undefined ? { tls: { ca } } : {}),
      ...(options.objectStoreMemory !== undefined ? { objectStoreMemory: options.objectStoreMemory } : {}),
    });
    return {
      record: { url, nodeId: beside.node.nodeId },
      stop: async () => {
        // Submitted jobs first: they are drivers of the node beside the head.
        await submissions.stopAll();
        await beside.stop();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** What runs `weft job submit`'s commands: in the session, with this installation's node_modules linked in. */
function jobRunner(options: StartOptions, session: string, token: string): JobRunner {
  // A head serving wss with a private certificate: the drivers it runs trust it, as its node does.
  const ca = options.tlsCa ?? options.tlsCert;
  const modulesDir = jobModulesDir();
  return new JobRunner({
    sessionDir: session, token,
    ...(modulesDir !== undefined ? { modulesDir } : {}),
    ...(ca !== undefined ? { env: { NODE_EXTRA_CA_CERTS: path.resolve(ca) } } : {}),
  });
}

/** What `weft start --head` prints: where the head runs and how to use it. */
function banner(record: Omit<HeadRecord, 'pid'> & { pid?: number }, options: StartOptions, session: string, token: string): string {
  const http = record.url.replace(/^ws/, 'http');
  const loopback = /^wss?:\/\/(127\.|localhost|\[::1\])/.test(record.url);
  return [
    `weft head running at ${record.url}${record.pid === undefined ? '' : ` (pid ${record.pid})`}, with a node of ${cpus(options.numCpus)} beside it`,
    `  session    ${session}`,
    `  logs       ${path.join(session, 'logs')}`,
    `  dashboard  ${http}/#token=${token}  (the page signs in with it once and drops it from the address)`,
    '',
    `Join a node${loopback ? ' (this head listens on loopback only: start it with --host 0.0.0.0 to let other machines join)' : ''}:`,
    `  weft start --address ${record.url} --token ${token}`,
    'Run a driver on the cluster:',
    `  weft submit --address ${record.url} --token ${token} --working-dir . -- tsx main.ts`,
    'Or run it on the head, where it outlives this terminal (then weft job list|status|logs|stop):',
    `  weft job submit --address ${record.url} --token ${token} --working-dir . -- tsx main.ts`,
    'Then: weft status, weft list nodes|actors|tasks|objects, weft stop',
  ].join('\n');
}
