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
 * weft's own packages (the node, the head, the CLI) do not import core: they share `@weft/protocol`.
 */
export { init, shutdown, get, wait, put, alloc, cancel, asCompleted, getRuntimeContext, getActor, kill } from './api.ts';
export type { InitOptions, GetOptions, WaitOptions, CancelOptions, AsCompletedOptions } from './api.ts';
export type { RuntimeContext } from '@weft/protocol';
export { remote, remoteOf } from './remote.ts';
export type { RemoteFunction, RemoteCalls, TaskOptions, RemoteArgs } from './remote.ts';
export type { MapOptions, MapProgress } from './map.ts';
export { ObjectRef } from '@weft/protocol';
export type { RefValue } from '@weft/protocol';
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
} from '@weft/protocol';
export type { ErrorCode, ErrorPayload } from '@weft/protocol';
