/**
 * What the head pushes to the dashboard over its live WebSocket (`/api/live`, JSON text frames):
 * one `snapshot` of every list when the page connects, then only what changed (`changes`), and a
 * sample of the nodes every second (the page keeps the samples and charts them).
 *
 * Lists are keyed: `changed` carries each item with its key, `removed` the keys that left, so the
 * page applies a change without knowing how an item is keyed. Nothing is sent by the page. An upgrade without a
 * session cookie (or the bearer token) is refused with HTTP 401 before it becomes a WebSocket.
 */
import type { ActorInfo, MapStatus, NodeStats, ObjectListing, ResourceSet, TaskEvent } from './messages.ts';

/** An actor as the dashboard shows it. */
export type LiveActor = ActorInfo & { nodeId: string };

/** A job as the dashboard shows it. */
export interface LiveJob {
  jobId: string;
  state: 'started' | 'finished';
  /** The node its driver is attached to. */
  nodeId: string;
  /** When it reached its state (ms since epoch). */
  since: number;
}

/** The lists the dashboard keeps, by name. */
export interface LiveLists {
  tasks: TaskEvent[];
  actors: LiveActor[];
  objects: ObjectListing[];
  jobs: LiveJob[];
  /** Parallel maps, running and recently ended (the head's MapTable). */
  maps: MapStatus[];
}

/** A node in a sample. */
export interface LiveNode {
  nodeId: string;
  address: string;
  alive: boolean;
  resources: ResourceSet;
  available: ResourceSet;
  /** Counts from its last heartbeat; null: none yet. */
  stats: NodeStats | null;
}

/** A change to one list: items added or changed (with their keys), keys removed. */
export type LiveChange = { [K in keyof LiveLists]: { type: 'changes'; list: K; changed: Array<[key: string, item: LiveLists[K][number]]>; removed: string[] } }[keyof LiveLists];

/** Head → dashboard. */
export type LiveMessage =
  | { type: 'snapshot'; lists: { [K in keyof LiveLists]: Array<[key: string, item: LiveLists[K][number]]> } }
  | LiveChange
  /** `at`: when the sample was taken (ms since epoch). */
  | { type: 'nodes'; at: number; nodes: LiveNode[] };

