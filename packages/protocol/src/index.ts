/**
 * @weft/protocol: what every side of weft shares, below the public API. The wire (every message
 * type, their validators, the msgpackr codec and its extensions, the transports: in-process ports,
 * WebSockets, reconnection, keepalive), ids, errors, resources, the logger, and the runtime slot
 * through which user code reaches the driver or worker it runs in (the client runtime, the
 * registry of remote definitions, the task context, shared memory).
 *
 * Not for programs: they import `@weft/core`, which re-exports the public names. The head
 * (@weft/scheduler), the node (@weft/worker-node) and the CLI import this package, never core,
 * so that arrows between packages run one way: protocol ← scheduler, worker-node ← core ← cli.
 */
export * from './messages.ts';
export * from './live-messages.ts';
export * from './validate.ts';
export * from './codec.ts';
export * from './object-ref.ts';
export * from './actor-handle-base.ts';
export * from './task-args.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './resource-set.ts';
export * from './logger.ts';
export * from './batcher.ts';
export * from './output-prefix.ts';
export * from './connection.ts';
export * from './port-runs.ts';
export * from './liveness.ts';
export * from './reconnecting.ts';
export * from './ws-client.ts';
export * from './ws-connection.ts';
export * from './ws-server.ts';
export * from './runtime/actor-class.ts';
export * from './runtime/client-runtime.ts';
export * from './runtime/context.ts';
export * from './runtime/function-registry.ts';
export * from './runtime/package-dir.ts';
export * from './runtime/ref-tracker.ts';
export * from './runtime/runtime-slot.ts';
export * from './runtime/shared-memory-pool.ts';
export * from './runtime/worker-state.ts';
