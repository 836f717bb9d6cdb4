/**
 * @weft/core/internal: what weft's own packages (the node, the head, the CLI) use of core
 * beside the public API: the codec, the wire protocol and its validators, transports, ids,
 * resources, the client runtime. Not for programs: they import `@weft/core`, whose names
 * these are not, so that the public entry is the API alone.
 */
export { ActorHandleBase, findActorClass, makeHandle } from './actor.ts';
export { DRIVER_CODE_IN_WORKER } from './api.ts';
export { encode, decode, isShared, allocateFrame, setSharedAllocator, SHARED_THRESHOLD_BYTES } from './codec.ts';
export { SharedMemoryPool, POOL_MIN_BYTES } from './runtime/shared-memory-pool.ts';
export type { EncodedValue } from './codec.ts';
export { toErrorPayload, fromErrorPayload, userStack } from './errors.ts';
export { nextId, ownerOf, randomId, isId, yieldId, MAX_ID_LENGTH } from './ids.ts';
export { amountOf, describeResources, fits, give, sumOf, take } from './resource-set.ts';
export { argumentObjectIds } from './task-args.ts';
export { logger } from './logger.ts';
export type { Logger } from './logger.ts';
export { PROTOCOL_VERSION, CLOSE_CODES } from './protocol/messages.ts';
export type {
  ClientMessage, NodeMessage, CommonClientMessage, DriverToNodeOnly, WorkerToNodeOnly, DriverToNode, WorkerToNode,
  CommonNodeMessage, NodeToDriverOnly, NodeToWorkerOnly, NodeToDriver, NodeToWorker, TaskSpec, TaskBatch, Result, ResourceSet, FunctionDescriptor, ActorSpec, ActorCallSpec, ActorInfo, ActorOptionsSpec,
  NodeToHead, HeadToNode, PeerMessage, PeerInfo, NodeStats, ActorLocation, ObjectLocation, HeadReply, TaskEvent, Hello, Welcome, PeerRole,
  NodeRequest, NodeRequestReplies, HeadRequest, HeadRequestReplies, ReplyValue, QueryReplies, ObjectListing, ClientRequest, ClientRequestReplies,
} from './protocol/messages.ts';
export { inProcessPair, PortConnection } from './protocol/connection.ts';
export { WebSocketConnection } from './protocol/ws-connection.ts';
export { ReconnectingConnection } from './protocol/reconnecting.ts';
export type { ReconnectHooks } from './protocol/reconnecting.ts';
export { connectWebSocket, WebSocketConnectError } from './protocol/ws-client.ts';
export type { ConnectOptions } from './protocol/ws-client.ts';
export { listenWebSocket, portInUseMessage } from './protocol/ws-server.ts';
export type { Accept, ListenOptions, WebSocketListener } from './protocol/ws-server.ts';
export {
  ProtocolError, validateClientMessage, validateNodeMessage, validateNodeToHead, validateHeadToNode, validatePeerMessage,
  validateHello, validateWelcome,
} from './protocol/validate.ts';
export { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './protocol/ws-connection.ts';
export { DEATH_TIMEOUT_MS, KEEPALIVE_INTERVAL_MS } from './protocol/liveness.ts';
export type { KeepaliveOptions } from './protocol/liveness.ts';
export type { ConnectErrorCode } from './protocol/ws-client.ts';
export type { Validator } from './protocol/validate.ts';
export type { Connection } from './protocol/connection.ts';
export { ClientRuntime, setRuntime, currentRuntime } from './runtime/client-runtime.ts';
export { taskScope } from './runtime/context.ts';
export { lookupDefinition, definitionsIn } from './runtime/function-registry.ts';
export { markWorker, workerState } from './runtime/worker-state.ts';
export { packDirectory, unpackDirectory, PACKAGE_MARKER, DEFAULT_PACKAGE_MAX_BYTES } from './runtime/package-dir.ts';
export type { PackOptions, PackedDirectory, UnpackOptions } from './runtime/package-dir.ts';
export type { EmbeddedCluster } from './runtime/embedded.ts';
