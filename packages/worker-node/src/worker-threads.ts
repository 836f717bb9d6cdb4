/**
 * Starting a worker thread, apart from the pool that runs it: the embedded driver starts its
 * workers before it loads the head and the node (module loading that took ~160 ms of the driver's
 * thread at start-up, with the workers not yet begun), so the two overlap; this module loads
 * little for that reason. The pool takes such threads as its first workers.
 *
 * The node talks to a worker over a MessagePort of its own, not the Worker object: messages wait
 * on a port until it is listened to, and the pool listens only once it exists.
 */
import os from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { randomId } from '@weft/protocol';
import type { WorkerData } from './worker-main.ts';

const WORKER_MAIN = new URL('./worker-main.js', import.meta.url);

/** What a worker thread is started with. */
export interface ThreadOptions {
  nodeId: string;
  jobId: string;
  /** The embedded driver's job (WorkerData.localJobId); undefined on cluster nodes. */
  localJobId: string | undefined;
  workingDir: string;
  /** Modules the worker imports before the users' (NodeOptions.workerPreload). */
  preload: string[];
  /** Heap limit, MiB. Absent: Node's default. */
  heapLimitMb?: number;
}

/** A started worker thread, and what befell it before its pool took it. */
export interface StartedThread {
  readonly id: string;
  readonly thread: Worker;
  /** The node's end of the worker's connection. */
  readonly port: MessagePort;
  /** The compiler's end of the port the worker's TypeScript hooks ask on. */
  readonly compilerPort: MessagePort;
  /** Set if the thread ended before its pool listened (its 'exit' event is gone by then). */
  exitCode: number | undefined;
  lastError: Error | undefined;
}

export function startWorkerThread(options: ThreadOptions): StartedThread {
  const id = randomId('worker');
  const { port1: compilerPort, port2: tsPort } = new MessageChannel();
  const { port1: port, port2: nodePort } = new MessageChannel();
  const data: WorkerData = {
    workerId: id, nodeId: options.nodeId, jobId: options.jobId, workingDir: options.workingDir, tsPort, nodePort,
    preload: options.preload, ...(options.localJobId !== undefined ? { localJobId: options.localJobId } : {}),
  };
  const thread = new Worker(WORKER_MAIN, {
    workerData: data,
    transferList: [tsPort, nodePort],
    // A clean start: the parent's --import/--require loaders do not carry over on Node 20 anyway.
    execArgv: [],
    ...(options.heapLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: options.heapLimitMb } } : {}),
  });
  const started: StartedThread = { id, thread, port, compilerPort, exitCode: undefined, lastError: undefined };
  thread.on('error', (error) => (started.lastError = error));
  thread.once('exit', (code) => (started.exitCode = code));
  return started;
}

/**
 * Each worker's heap limit by default: its share of 70% of the machine's memory (one share per
 * CPU, plus two for the node's own process and extra workers), at least 512 MiB. A task that goes
 * beyond it kills its worker only, and is retried as after any crash.
 */
export function defaultHeapLimitMb(numCpus: number): number {
  const share = (os.totalmem() * 0.7) / (Math.max(1, Math.ceil(numCpus)) + 2) / (1024 * 1024);
  return Math.max(512, Math.floor(share));
}

/** How many task workers a node of `numCpus` keeps: one per CPU, at least one. */
export function minWorkersFor(numCpus: number): number {
  return Math.max(1, Math.ceil(numCpus));
}

/**
 * How many of a node's `minWorkers` first workers start together; the others start once these
 * are ready. A worker's start-up is CPU work (Node's bootstrap, weft's modules, its module hooks'
 * thread): started together on a machine with fewer free cores than workers, they share them and
 * all become ready late, the first too, so one core is left to the driver's (or node's) thread.
 */
export function workersAtOnce(minWorkers: number): number {
  return Math.min(minWorkers, Math.max(1, os.availableParallelism() - 1));
}
