/**
 * What a node asks of the head. In the embedded cluster the head is in the same process and
 * this is a direct call; in cluster mode the same requests travel as messages.
 */
import type { ResourceSet } from './messages.ts';

/** A node as the head knows it. */
export interface NodeInfo {
  nodeId: string;
  /** Total resources of the node. */
  resources: ResourceSet;
  /** Address peers reach it at. Absent for an embedded node. */
  address?: string;
}

/** The node's view of the head. */
export interface HeadLink {
  /** Register a node and its resources. */
  registerNode(info: NodeInfo): void;
  /** Forget a node (it stopped). */
  unregisterNode(nodeId: string): void;
  /** Report a node's available resources (after changes). */
  reportAvailable(nodeId: string, available: ResourceSet): void;
  /** Pick a node for a task the asking node cannot run itself; null when no node ever could. */
  placeTask(fromNodeId: string, resources: ResourceSet): string | null;
  /** The cluster's total resources, for error messages. */
  clusterResources(): ResourceSet;
  /** Claim an actor name for an actor; false when a live actor has it. */
  claimActorName(name: string, actorId: string): boolean;
  /** Free an actor's name (it died). */
  releaseActorName(name: string, actorId: string): void;
  /** The id of the live actor with this name. */
  lookupActorName(name: string): string | undefined;
}
