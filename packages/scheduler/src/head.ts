/**
 * The head: owns cluster state (the nodes and their resources) and the global scheduler.
 * In the embedded cluster it lives in the driver's process and nodes reach it through
 * `link()`, a direct-call HeadLink.
 */
import { logger, type HeadLink, type NodeInfo, type ResourceSet } from '@weft/core';
import { GlobalScheduler } from './global-scheduler.ts';
import { NodeRegistry } from './node-registry.ts';
import { ActorRegistry } from './actor-registry.ts';

export class Head {
  readonly nodes = new NodeRegistry();
  readonly scheduler = new GlobalScheduler(this.nodes);
  readonly actors = new ActorRegistry();
  readonly #log = logger('head');

  /** A HeadLink that calls this head directly (a node in the same process). */
  link(): HeadLink {
    return {
      registerNode: (info: NodeInfo) => {
        this.nodes.register(info);
        this.#log.info({ nodeId: info.nodeId, resources: info.resources }, 'node registered');
      },
      unregisterNode: (nodeId: string) => {
        this.nodes.unregister(nodeId);
        this.#log.info({ nodeId }, 'node left');
      },
      reportAvailable: (nodeId: string, available: ResourceSet) => this.nodes.reportAvailable(nodeId, available),
      placeTask: (fromNodeId: string, resources: ResourceSet) => this.scheduler.place(resources) ?? null,
      clusterResources: () => this.nodes.totals(),
      claimActorName: (name: string, actorId: string) => this.actors.claim(name, actorId),
      releaseActorName: (name: string, actorId: string) => this.actors.release(name, actorId),
      lookupActorName: (name: string) => this.actors.lookup(name),
    };
  }
}
