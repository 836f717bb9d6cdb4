/**
 * The code of a worker thread: a client runtime (so tasks can submit tasks, get and put) and an
 * executor, both on the MessagePort to the node.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ClientRuntime, PortConnection, markWorker, setRuntime, type ClientMessage, type NodeMessage } from '@weft/core';
import { Executor } from './executor.ts';

/** What the node passes to a new worker. */
export interface WorkerData {
  workerId: string;
  nodeId: string;
  jobId: string;
  workingDir: string;
}

const data = workerData as WorkerData;
if (!parentPort) throw new Error('worker-main runs only in a worker_thread');
const state = markWorker();
const conn = new PortConnection<NodeMessage, ClientMessage>(parentPort);
const runtime = new ClientRuntime(conn, data);
setRuntime(runtime);
const executor = new Executor(runtime, data.workingDir, state);
runtime.onOtherMessage = (message) => {
  switch (message.type) {
    case 'execute-task':
      executor.execute(message.task, message.argValues);
      return;
    case 'drop-task':
      executor.drop(message.taskId);
      return;
    case 'shutdown-worker':
      process.exit(0);
    // falls through (never reached: exit ends the thread)
    default:
      return;
  }
};
runtime.send({ type: 'worker-ready', workerId: data.workerId });
