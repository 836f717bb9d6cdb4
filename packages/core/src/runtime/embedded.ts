/**
 * The embedded cluster: a head and one node inside the driver's process, loaded at run time so
 * that @weft/core never imports the server packages statically.
 */
import os from 'node:os';
import type { Connection, ClientMessage, HeadToNode, NodeMessage, NodeToHead } from '@weft/protocol';

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

interface NodeModule {
  startNode(options: {
    numCpus: number; resources: Record<string, number>; head: Connection<HeadToNode, NodeToHead>;
    workingDir: string; jobId: string; workerHeapLimitMb?: number; objectStoreMemory?: number; workerPreload?: string[];
  }): Promise<{ nodeId: string; connect(clientId: string): Connection<NodeMessage, ClientMessage>; stop(): Promise<void> }>;
}
interface HeadModule {
  Head: new (options: { recordTasks: boolean }) => { connectLocal(): Connection<HeadToNode, NodeToHead>; claimActorName(name: string, actorId: string): boolean };
}

/** Start a head and a node in this process, talking over an in-process connection. */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const [{ Head }, { startNode }] = await Promise.all([
    // The head alone, not the package's index: an embedded head serves no HTTP, so neither the
    // head server nor its metrics (prom-client) nor ws need loading.
    import('@weft/scheduler/head') as Promise<unknown> as Promise<HeadModule>,
    import('@weft/worker-node') as Promise<unknown> as Promise<NodeModule>,
  ]);
  // No task table: an embedded head serves no state API, dashboard or metrics, its only readers.
  const head = new Head({ recordTasks: false });
  const numCpus = options.numCpus ?? os.availableParallelism();
  const node = await startNode({ numCpus, resources: options.resources ?? {}, head: head.connectLocal(), workingDir: options.workingDir,
    jobId: options.jobId, workerPreload: ownEntry(), ...(options.workerHeapLimitMb !== undefined ? { workerHeapLimitMb: options.workerHeapLimitMb } : {}),
    ...(options.objectStoreMemory !== undefined ? { objectStoreMemory: options.objectStoreMemory } : {}) });
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
