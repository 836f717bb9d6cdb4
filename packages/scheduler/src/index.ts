/**
 * @weft/scheduler: the head of a weft cluster (cluster state and the global scheduler).
 *
 * ```ts
 * const head = new Head();
 * const conn = head.connectLocal(); // what an in-process node talks to
 * const off = head.tasks.subscribe(({ tasks }) => render(tasks)); // the task table, live
 * ```
 */
export { Head } from './head.ts';
export { startHeadServer } from './head-server.ts';
export type { HeadServer, HeadServerOptions, ConnectionHook } from './head-server.ts';
export { stateApi, clusterStatus, chromeTrace } from './state-api.ts';
export { NodeRegistry } from './node-registry.ts';
export type { NodeRecord } from './node-registry.ts';
export { GlobalScheduler } from './global-scheduler.ts';
export type { PlacementHints } from './global-scheduler.ts';
export { ActorRegistry } from './actor-registry.ts';
export { TaskTable, UNKNOWN_JOB } from './task-table.ts';
export type {
  JobTasks, TaskEdge, TaskRow, TaskState, TaskTableChanges, TaskTableListener, TaskTableOptions, TaskTableSnapshot,
} from './task-table.ts';
export { HeadMetrics, TASK_DURATION_BUCKETS_S } from './metrics.ts';
export type { MetricsSources } from './metrics.ts';
export { JobRunner, JOB_STOP_GRACE_MS } from './job-runner.ts';
export type { JobRunnerOptions } from './job-runner.ts';
export { FINAL_STATES, MAX_FINISHED_SUBMISSIONS } from './submission-table.ts';
export type { JobSubmission, SubmissionState } from './submission-table.ts';
