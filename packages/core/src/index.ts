/**
 * @weft/core: the public API of weft.
 *
 * ```ts
 * import { init, remote, get, shutdown } from '@weft/core';
 * export const square = remote(function square(x: number) { return x * x; });
 * await init();
 * console.log(await square.map([1, 2, 3]));   // [1, 4, 9], in parallel, in chunks
 * console.log(await get(square.remote(4)));   // 16: one task, its ObjectRef at once
 * await shutdown();
 * ```
 *
 * The names after "internal" are for weft's own packages (the node, the head, the CLI).
 */
export { init, shutdown, get, wait, put, cancel, asCompleted, getRuntimeContext, getActor, kill } from './api.ts';
export type { InitOptions, GetOptions, WaitOptions, CancelOptions, AsCompletedOptions } from './api.ts';
export type { RuntimeContext } from './runtime/context.ts';
export { remote, remoteOf } from './remote.ts';
export type { RemoteFunction, RemoteCalls, TaskOptions, RemoteArgs } from './remote.ts';
export type { MapOptions, MapProgress } from './map.ts';
export { ObjectRef } from './object-ref.ts';
export type { RefValue } from './object-ref.ts';
export { ObjectRefGenerator } from './object-ref-generator.ts';
export type { RemoteGeneratorFunction, RemoteOf, YieldOf } from './remote.ts';
export { Actor } from './actor.ts';
export type { ActorHandle, ActorOptions, ActorMethod, ActorMethodNames, ActorClass } from './actor.ts';
export { ActorPool } from './actor-pool.ts';
export type { PoolCall } from './actor-pool.ts';
export { Memory } from './memory.ts';
export type { CachedFunction, MemoryStats } from './memory.ts';
export {
  WeftError, TaskError, WorkerCrashedError, ActorDiedError, ObjectLostError, GetTimeoutError,
  TaskCancelledError, NodeDiedError, TaskUnschedulableError, SerializationError, SystemError, ValueNotFoundError, ObjectStoreFullError, ERROR_CODES,
} from './errors.ts';
export type { ErrorCode, ErrorPayload } from './errors.ts';

// internal
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
  ClientMessage, NodeMessage, TaskSpec, TaskBatch, Result, ResourceSet, FunctionDescriptor, ActorSpec, ActorCallSpec, ActorInfo, ActorOptionsSpec,
  NodeToHead, HeadToNode, PeerMessage, PeerInfo, NodeStats, ActorLocation, ObjectLocation, HeadReply, TaskEvent, Hello, Welcome, PeerRole,
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
