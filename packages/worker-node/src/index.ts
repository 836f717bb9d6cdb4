/**
 * @weft/worker-node: a weft node (object store, worker pool, local scheduler, executor).
 *
 * ```ts
 * const head = new Head(); // from @weft/scheduler
 * const node = await startNode({ numCpus: 2, resources: {}, head: head.connectLocal(), workingDir: process.cwd() });
 * const conn = node.connect('driver-1'); // protocol messages in and out
 * ```
 */
export { startNode, WeftNode } from './node.ts';
export { nodeAddresses, startClusterNode, startNodeBesideHead, nodeHooks, peerConnector } from './cluster-node.ts';
export type { ClusterNode, ClusterNodeOptions, ClusterTls, HeadServerLike } from './cluster-node.ts';
export type { NodeOptions } from './node.ts';
export { NodeAddressError, chooseHeadAddress, chooseNodeAddresses, isLoopback, isWildcard, wsUrlOf } from './node-address.ts';
export { jobModulesDir } from './job-directories.ts';
export { collectGarbage } from './garbage.ts';
