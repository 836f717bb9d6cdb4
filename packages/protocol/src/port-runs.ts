/**
 * Runs of like messages on a worker's port, packed into one message each.
 *
 * postMessage clones what it sends, and the clone costs per object and per buffer far more than
 * per byte: a batch of eight tiny tasks is eight task specs of a dozen fields and eight argument
 * frames, each an ArrayBuffer of its own that the worker allocates again (~7 µs a task, the
 * largest cost of a tiny task on the node's thread by `--cpu-prof`). Consecutive tasks of one
 * function differ only in their id and their arguments, so a run of them travels as one spec,
 * the ids, and the argument frames back to back in one buffer; the results coming back likewise
 * (ids, the value frames in one buffer, the run times). The other end expands a run into the
 * very messages that were packed, in their order, so nothing past the port changes.
 *
 * Only small frames are packed, at most {@link MAX_PACKED_FRAME_BYTES} (an expanded frame is a
 * view of the run's buffer, and keeps it; frames in shared memory, passed by reference on a port,
 * are far larger), and only values without refs (a value that holds refs keeps its list).
 */
import type { EncodedValue } from './codec.ts';
import { isId } from './ids.ts';
import type { ActorCallSpec, ClientMessage, NodeToWorker, TaskSpec } from './messages.ts';
import { ProtocolError } from './validate.ts';

/** Largest frame packed into a run; larger ones travel as they are. */
export const MAX_PACKED_FRAME_BYTES = 256;
/** Most messages in one run (a longer stretch makes several runs). */
export const MAX_RUN = 64;

/** Tasks of one spec: `task` without its id and arguments, then each task's id and argument frame. */
interface TaskRun {
  type: 'task-run';
  task: Omit<TaskSpec, 'taskId' | 'args'>;
  ids: string[];
  data: Uint8Array;
  /** Where each frame ends in `data` (the first starts at 0). */
  ends: number[];
}

/** Calls of one method of one actor: as a TaskRun. */
interface CallRun {
  type: 'call-run';
  call: Omit<ActorCallSpec, 'callId' | 'args'>;
  ids: string[];
  data: Uint8Array;
  ends: number[];
}

/** Tasks (or actor calls) that returned a value: their ids, value frames and run times. */
interface DoneRun {
  type: 'done-run';
  ids: string[];
  data: Uint8Array;
  ends: number[];
  runMs: number[];
}

/** Packs the runs in a batch going out on a port, and expands the runs in a batch coming in. */
export interface PortRuns<In, Out> {
  pack(batch: Out[]): unknown[];
  /** The messages a run stands for; undefined when `raw` is not a run. Throws a ProtocolError for a malformed run. */
  expand(raw: unknown): In[] | undefined;
}

// Not value.data.buffer: reading it makes V8 give a small typed array an ArrayBuffer of its own.
const packable = (value: EncodedValue): boolean => value.refs === undefined && value.data.byteLength <= MAX_PACKED_FRAME_BYTES;

const sameRecord = (a: Record<string, number>, b: Record<string, number>): boolean => {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
};

/**
 * Whether two task specs may share a run: equal in every field but taskId and args. The table
 * lists the fields sameTask compares, typed so that a field added to TaskSpec without a line
 * here fails to compile (and a test checks that sameTask tells each of them apart).
 */
export const TASK_RUN_FIELDS: { [K in Exclude<keyof TaskSpec, 'taskId' | 'args'>]-?: true } = {
  jobId: true, name: true, maxRetries: true, retryExceptions: true, maxConcurrency: true, generator: true, parentTaskId: true,
  fn: true, resources: true, argRefs: true, batch: true,
};

/** Straight comparisons (a loop over the table costs ~1 µs a task on the node's thread). */
export function sameTask(a: TaskSpec, b: TaskSpec): boolean {
  return (a.fn === b.fn || (a.fn.module === b.fn.module && a.fn.name === b.fn.name))
    && a.jobId === b.jobId && a.name === b.name && a.maxRetries === b.maxRetries && a.retryExceptions === b.retryExceptions
    && a.maxConcurrency === b.maxConcurrency && a.generator === b.generator && a.parentTaskId === b.parentTaskId
    && a.argRefs.length === 0 && b.argRefs.length === 0 && a.batch === undefined && b.batch === undefined
    && sameRecord(a.resources, b.resources);
}

type Execute = Extract<NodeToWorker, { type: 'execute-task' }>;
type ActorCall = Extract<NodeToWorker, { type: 'actor-call' }>;
type Done = Extract<ClientMessage, { type: 'task-done' }>;

const taskPackable = (m: NodeToWorker): m is Execute =>
  m.type === 'execute-task' && m.join !== true && m.argValues.length === 0 && m.task.argRefs.length === 0 && m.task.batch === undefined && packable(m.task.args);
const callPackable = (m: NodeToWorker): m is ActorCall =>
  m.type === 'actor-call' && m.argValues.length === 0 && m.call.argRefs.length === 0 && packable(m.call.args);
const donePackable = (m: ClientMessage): m is Done =>
  m.type === 'task-done' && m.result.status === 'ok' && m.runMs !== undefined && packable(m.result.value);

/** The frames of `values` back to back, and where each ends. */
function joinFrames(values: Uint8Array[]): { data: Uint8Array; ends: number[] } {
  let size = 0;
  for (const value of values) size += value.byteLength;
  const data = new Uint8Array(size);
  const ends = new Array<number>(values.length);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    data.set(values[i]!, at);
    at += values[i]!.byteLength;
    ends[i] = at;
  }
  return { data, ends };
}

/**
 * Packs `batch`: each stretch of two or more consecutive messages that `fits` and `joins` (to the
 * first of the stretch) becomes `toRun(stretch)`; everything else goes as it is, in order.
 */
function packRuns<M>(batch: M[], fits: (m: M) => boolean, joins: (first: M, next: M) => boolean, toRun: (run: M[]) => unknown): unknown[] {
  if (batch.length < 2) return batch;
  const out: unknown[] = [];
  let i = 0;
  while (i < batch.length) {
    const first = batch[i]!;
    let end = i + 1;
    if (fits(first)) {
      while (end < batch.length && end - i < MAX_RUN && fits(batch[end]!) && joins(first, batch[end]!)) end += 1;
    }
    if (end - i >= 2) out.push(toRun(batch.slice(i, end)));
    else out.push(first);
    i = end;
  }
  return out;
}

/** The node's side of a worker's port: packs tasks and calls going out, expands results coming in (checked). */
export const nodeSideRuns: PortRuns<ClientMessage, NodeToWorker> = {
  pack: (batch) => packRuns(batch, (m) => taskPackable(m) || callPackable(m), joinsRun, (run) => {
    const first = run[0]!;
    if (first.type === 'execute-task') {
      const tasks = run as Execute[];
      const { taskId: _id, args: _args, ...task } = first.task;
      return { type: 'task-run', task, ids: tasks.map((m) => m.task.taskId), ...joinFrames(tasks.map((m) => m.task.args.data)) } satisfies TaskRun;
    }
    const calls = run as ActorCall[];
    const { callId: _id, args: _args, ...call } = (first as ActorCall).call;
    return { type: 'call-run', call, ids: calls.map((m) => m.call.callId), ...joinFrames(calls.map((m) => m.call.args.data)) } satisfies CallRun;
  }),
  expand: (raw) => {
    if (!isRun(raw, 'done-run')) return undefined;
    const run = raw as Partial<DoneRun>;
    const ids = checkedFrames(run, 'done-run');
    const runMs = run.runMs;
    if (!Array.isArray(runMs) || runMs.length !== ids.length || !runMs.every((ms) => typeof ms === 'number' && ms >= 0 && ms < Infinity)) {
      throw new ProtocolError('done-run.runMs must be one finite number >= 0 per id');
    }
    return eachFrame(run as DoneRun, (taskId, data, i): ClientMessage => ({ type: 'task-done', taskId, result: { status: 'ok', value: { data } }, runMs: runMs[i] }));
  },
};

function joinsRun(first: NodeToWorker, next: NodeToWorker): boolean {
  if (first.type === 'execute-task') return next.type === 'execute-task' && sameTask(first.task, next.task);
  if (first.type === 'actor-call' && next.type === 'actor-call') {
    const a = first.call;
    const b = next.call;
    return a.actorId === b.actorId && a.method === b.method && a.name === b.name;
  }
  return false;
}

/** The worker's side of its port: packs results going out, expands tasks and calls coming in (trusted: its node sent them). */
export const workerSideRuns: PortRuns<NodeToWorker, ClientMessage> = {
  pack: (batch) => packRuns(batch, donePackable, () => true, (run) => {
    const done = run as Done[];
    const values = done.map((m) => (m.result as { value: EncodedValue }).value.data);
    return { type: 'done-run', ids: done.map((m) => m.taskId), ...joinFrames(values), runMs: done.map((m) => m.runMs!) } satisfies DoneRun;
  }),
  expand: (raw) => {
    // Object.assign, not a spread with fields after it: V8 copies that one field by field (~1.5 µs a task).
    if (isRun(raw, 'task-run')) {
      const run = raw as TaskRun;
      return eachFrame(run, (taskId, data): NodeToWorker => {
        const task = Object.assign({}, run.task) as TaskSpec;
        task.taskId = taskId;
        task.args = { data };
        return { type: 'execute-task', task, argValues: [] };
      });
    }
    if (isRun(raw, 'call-run')) {
      const run = raw as CallRun;
      return eachFrame(run, (callId, data): NodeToWorker => {
        const call = Object.assign({}, run.call) as ActorCallSpec;
        call.callId = callId;
        call.args = { data };
        return { type: 'actor-call', call, argValues: [] };
      });
    }
    return undefined;
  },
};

const isRun = (raw: unknown, type: string): boolean =>
  typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === type;

/** The message `make` gives for each id of a run with its frame (a view of the run's buffer), in order. */
function eachFrame<M>(run: { ids: string[]; data: Uint8Array; ends: number[] }, make: (id: string, frame: Uint8Array, i: number) => M): M[] {
  const out = new Array<M>(run.ids.length);
  for (let i = 0; i < out.length; i++) out[i] = make(run.ids[i]!, run.data.subarray(i === 0 ? 0 : run.ends[i - 1], run.ends[i]), i);
  return out;
}

/** Checks a run's ids, buffer and ends (from a worker, which runs user code); returns the ids. */
function checkedFrames(run: Partial<DoneRun>, type: string): string[] {
  const { ids, data, ends } = run;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_RUN) throw new ProtocolError(`${type}.ids must be an array of 1 to ${MAX_RUN} ids`);
  for (let i = 0; i < ids.length; i++) if (!isId(ids[i])) throw new ProtocolError(`${type}.ids[${i}] must be an id`);
  if (!(data instanceof Uint8Array)) throw new ProtocolError(`${type}.data must be binary (Uint8Array)`);
  if (!Array.isArray(ends) || ends.length !== ids.length) throw new ProtocolError(`${type}.ends must have one entry per id`);
  let at = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i];
    if (!Number.isSafeInteger(end) || (end as number) < at) throw new ProtocolError(`${type}.ends[${i}] must be an integer, not below the one before`);
    at = end as number;
  }
  if (at !== data.byteLength) throw new ProtocolError(`${type}.ends must end at the length of data`);
  return ids as string[];
}
