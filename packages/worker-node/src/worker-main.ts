/**
 * The code of a worker thread: a client runtime (so tasks can submit tasks, get and put) and an
 * executor, both on the MessagePort to the node.
 */
import { register } from 'node:module';
import { isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import { ClientRuntime, PortConnection, markWorker, workerSideRuns, setRuntime, taskScope, type ClientMessage, type NodeToWorker } from '@weft/protocol';
import { claimNameThroughNode } from './name-claim.ts';
import { Executor } from './executor.ts';
import { QuickCalls } from './quick-calls.ts';
import { ActorHost } from './actor-host.ts';
import { ActorTimers } from './actor-timers.ts';
import { collectGarbageSoon } from './garbage.ts';
import { ModuleLoader } from './module-loader.ts';
import { OutputCapture } from './output-capture.ts';
import { installTsRequire } from './ts-require.ts';

/** What the node passes to a new worker. */
export interface WorkerData {
  workerId: string;
  nodeId: string;
  jobId: string;
  workingDir: string;
  /** The embedded driver's job, whose modules may be anywhere on this machine; absent on cluster nodes. */
  localJobId?: string;
  /** The port to the node's TypeScript compiler, for this worker's module hooks. */
  tsPort: MessagePort;
  /** The port to the node: its messages and this worker's (worker-threads.ts says why not parentPort). */
  nodePort: MessagePort;
  /** Modules to import before the hooks are registered (NodeOptions.workerPreload). */
  preload: string[];
}

const data = workerData as WorkerData;
if (isMainThread) throw new Error('worker-main runs only in a worker_thread');
const state = markWorker();
const conn = new PortConnection<NodeToWorker, ClientMessage>(data.nodePort, { runs: workerSideRuns });
const runtime = new ClientRuntime(conn, data);
runtime.claimActorName = (name, actorId) => claimNameThroughNode(conn, name, actorId);
const output = new OutputCapture(data.jobId, (chunks) => conn.send({ type: 'task-output', chunks }));
output.install();
// What a task wrote goes before the message that ends it, on the same port: the node has its last
// lines before its result, and so does its driver.
const send = runtime.send.bind(runtime);
runtime.send = (message) => {
  if (message.type === 'task-done') output.flush(message.taskId);
  else if (message.type === 'actor-created') output.flush(message.actorId);
  send(message);
};
setRuntime(runtime);
const loader = new ModuleLoader(data.workingDir, state, data.localJobId);
const quick = new QuickCalls(() => conn.flush());
const executor = new Executor(runtime, loader, quick);
// Timers are filed by actor only in a worker that hosts actors (wrapped at its first one): task
// workers keep the plain timer functions.
const timers = new ActorTimers();
const actor = new ActorHost(runtime, loader, timers, quick);
runtime.onOtherMessage = (message) => {
  switch (message.type) {
    case 'execute-task':
      executor.execute(message.task, message.argValues, message.join === true);
      return;
    case 'create-actor-instance':
      timers.install(() => taskScope.getStore()?.actorId);
      void actor.create(message.spec, message.argValues);
      return;
    case 'actor-call':
      actor.call(message.call, message.argValues);
      return;
    case 'drop-actor':
      actor.drop(message.actorId);
      // What only it held is released once collected: an idle worker may not collect for long.
      collectGarbageSoon();
      return;
    case 'job-dir':
      loader.setJobDir(message.jobId, message.dir);
      return;
    case 'drop-task':
      executor.drop(message.taskId);
      return;
    default:
      return;
  }
};
// weft's own modules are built JavaScript and loaded above without hooks (each hooked import is a
// round trip to the hooks thread); the users' modules, imported from here on, go through them, so
// that TypeScript ones are compiled by the node. Source maps from here on too: the users' stacks
// name their own lines, and the framework's modules (whose frames are dropped) are not mapped.
for (const url of data.preload) {
  try {
    await import(url);
  } catch {
    // Not this worker's failure: a task module importing it reports the error.
  }
}
register(new URL('./ts-hooks.js', import.meta.url), { data: { port: data.tsPort }, transferList: [data.tsPort] });
installTsRequire();
process.setSourceMapsEnabled(true);
runtime.send({ type: 'worker-ready', workerId: data.workerId });
