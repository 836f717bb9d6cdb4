/**
 * The embedded cluster: a head and one node inside the driver's process, loaded at run time so
 * that @weft/core never imports the server packages statically.
 */
import os from 'node:os';
import { definedModules, randomId, type Connection, type ClientMessage, type HeadToNode, type NodeMessage, type NodeToHead } from '@weft/protocol';

/** Options of the embedded cluster. */
export interface EmbeddedOptions {
  numCpus?: number;
  resources?: Record<string, number>;
  workingDir: string;
  jobId: string;
  workerHeapLimitMb?: number;
  objectStoreMemory?: number;
}

/** A running embedded cluster. */
export interface EmbeddedCluster {
  nodeId: string;
  connect(clientId: string): Connection<NodeMessage, ClientMessage>;
  stop(): Promise<void>;
  /** Claim an actor name now (the head is in this process); false when a live actor has it. */
  claimActorName(name: string, actorId: string): boolean;
}

/** A worker thread started ahead of the node (@weft/worker-node/threads), opaque here. */
interface StartedThread {
  readonly thread: { terminate(): Promise<number> };
}
interface ThreadsModule {
  startWorkerThread(options: {
    nodeId: string; jobId: string; localJobId: string | undefined; workingDir: string; preload: string[]; heapLimitMb?: number;
  }): StartedThread;
  defaultHeapLimitMb(numCpus: number): number;
  minWorkersFor(numCpus: number): number;
  workersAtOnce(minWorkers: number): number;
}
interface NodeModule {
  startNode(options: {
    numCpus: number; resources: Record<string, number>; head: Connection<HeadToNode, NodeToHead>; nodeId: string;
    workingDir: string; jobId: string; workerHeapLimitMb?: number; objectStoreMemory?: number; workerPreload?: string[];
    startedWorkers: StartedThread[]; recordTasks: boolean; workerModules: readonly string[];
  }): Promise<{ nodeId: string; connect(clientId: string): Connection<NodeMessage, ClientMessage>; stop(): Promise<void> }>;
}
interface HeadModule {
  Head: new (options: { recordTasks: boolean }) => { connectLocal(): Connection<HeadToNode, NodeToHead>; claimActorName(name: string, actorId: string): boolean };
}

/** Start a head and a node in this process, talking over an in-process connection. */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  // The workers start first, and boot while this thread loads the head and the node.
  const threads = (await import('@weft/worker-node/threads')) as unknown as ThreadsModule;
  const numCpus = options.numCpus ?? os.availableParallelism();
  const nodeId = randomId('node');
  const workerHeapLimitMb = options.workerHeapLimitMb ?? threads.defaultHeapLimitMb(numCpus);
  const workerPreload = ownEntry();
  const startedWorkers = Array.from({ length: threads.workersAtOnce(threads.minWorkersFor(numCpus)) }, () => threads.startWorkerThread({
    nodeId, jobId: options.jobId, localJobId: options.jobId, workingDir: options.workingDir, preload: workerPreload, heapLimitMb: workerHeapLimitMb,
  }));
  let node: Awaited<ReturnType<NodeModule['startNode']>>;
  let head: InstanceType<HeadModule['Head']>;
  try {
    const [{ Head }, { startNode }] = await Promise.all([
      // The head alone, not the package's index: an embedded head serves no HTTP, so neither the
      // head server nor its metrics (prom-client) nor ws need loading.
      import('@weft/scheduler/head') as Promise<unknown> as Promise<HeadModule>,
      import('@weft/worker-node') as Promise<unknown> as Promise<NodeModule>,
    ]);
    // No task table, nor a node's task log for it: an embedded head serves no state API, dashboard
    // or metrics, their only readers.
    head = new Head({ recordTasks: false });
    node = await startNode({ numCpus, resources: options.resources ?? {}, head: head.connectLocal(), nodeId, workingDir: options.workingDir,
      jobId: options.jobId, workerPreload, workerHeapLimitMb, startedWorkers, recordTasks: false,
      // What the driver defined so far (its remote functions and actor classes): compiled ahead.
      workerModules: definedModules(),
      ...(options.objectStoreMemory !== undefined ? { objectStoreMemory: options.objectStoreMemory } : {}) });
  } catch (error) {
    // The node never took them (it could not be loaded or made).
    await Promise.all(startedWorkers.map((started) => started.thread.terminate()));
    throw error;
  }
  return {
    nodeId: node.nodeId,
    connect: (clientId) => node.connect(clientId),
    stop: () => node.stop(),
    claimActorName: (name, actorId) => head.claimActorName(name, actorId),
  };
}

/** @weft/core's entry, which every task module imports, for the workers to load ahead (none when it cannot be resolved). */
function ownEntry(): string[] {
  try {
    return [import.meta.resolve('@weft/core')];
  } catch {
    return [];
  }
}
