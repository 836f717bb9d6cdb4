import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../src/codec.ts';
import { PortConnection } from '../src/connection.ts';
import type { ClientMessage, NodeToWorker, TaskSpec } from '../src/messages.ts';
import { MAX_PACKED_FRAME_BYTES, MAX_RUN, TASK_RUN_FIELDS, nodeSideRuns, sameTask, workerSideRuns } from '../src/port-runs.ts';
import { validateClientMessage } from '../src/validate.ts';

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const channel of channels.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

const fn = { module: 'tasks.ts', name: 'tiny' };
const resources = { CPU: 1 };
function task(i: number, over: Partial<TaskSpec> = {}): NodeToWorker {
  return {
    type: 'execute-task',
    task: { taskId: `task-${i}`, jobId: 'job-1', fn, name: 'tiny', args: encode([i]), argRefs: [], resources, maxRetries: 3, retryExceptions: false, ...over },
    argValues: [],
  };
}
const done = (i: number, value: unknown = i * 2): ClientMessage => ({ type: 'task-done', taskId: `task-${i}`, result: { status: 'ok', value: encode(value) }, runMs: 0.01 });
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** What a batch becomes after packing, a real port's clone, and expanding at the other end. */
async function across<In, Out>(batch: Out[], pack: { pack(b: Out[]): unknown[] }, expand: { expand(raw: unknown): In[] | undefined }): Promise<{ sent: unknown[]; received: In[] }> {
  const channel = new MessageChannel();
  channels.push(channel);
  const sent = pack.pack(batch);
  const arrived = new Promise<unknown[]>((resolve) => channel.port2.once('message', resolve));
  channel.port1.postMessage(sent);
  const raw = await arrived;
  const received = raw.flatMap((entry) => expand.expand(entry) ?? [entry as In]);
  return { sent, received };
}

/** Values of frames, for comparing messages whose frames are views of other buffers. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));

describe('runs of tasks to a worker', () => {
  it('packs consecutive tasks of one function into one message and expands them into the same messages, in order', async () => {
    const batch = Array.from({ length: 10 }, (_, i) => task(i));
    const { sent, received } = await across(batch, nodeSideRuns, workerSideRuns);
    expect(sent).toHaveLength(1);
    expect((sent[0] as { type: string }).type).toBe('task-run');
    expect(plain(received)).toEqual(plain(batch));
  });

  it('breaks runs at a task of another function, another spec, or one that cannot be packed, keeping the order', async () => {
    const big = encode([new Uint8Array(MAX_PACKED_FRAME_BYTES + 1)]);
    const batch: NodeToWorker[] = [
      task(0), task(1),
      task(2, { fn: { module: 'tasks.ts', name: 'other' } }),
      task(3, { resources: { CPU: 2 } }), task(4, { resources: { CPU: 2 } }),
      task(5, { args: big }),
      task(6, { argRefs: [[0, 'obj-1']] }),
      { type: 'drop-task', taskId: 'task-0' },
      task(7, { maxRetries: 0 }), task(8),
      task(9, { batch: { offset: 0 } }),
      task(10, { parentTaskId: 'task-p' }), task(11, { parentTaskId: 'task-p' }),
    ];
    const { sent, received } = await across(batch, nodeSideRuns, workerSideRuns);
    expect(sent.map((m) => (m as { type: string }).type)).toEqual([
      'task-run', 'execute-task', 'task-run', 'execute-task', 'execute-task', 'drop-task', 'execute-task', 'execute-task', 'execute-task', 'task-run',
    ]);
    expect(plain(received)).toEqual(plain(batch));
  });

  it('tells apart two specs that differ in any field but their id and arguments', () => {
    const base = (task(0) as { task: TaskSpec }).task;
    const other: { [K in keyof typeof TASK_RUN_FIELDS]: unknown } = {
      jobId: 'job-2', name: 'other', maxRetries: 0, retryExceptions: true, maxConcurrency: 4, generator: true, parentTaskId: 'task-p',
      fn: { module: 'tasks.ts', name: 'other' }, resources: { CPU: 1, gpu: 1 }, argRefs: [[0, 'obj-1']], batch: { offset: 0 },
    };
    expect(sameTask(base, { ...base, taskId: 'task-other', args: encode([99]) })).toBe(true);
    expect(sameTask(base, { ...base, fn: { ...fn }, resources: { ...resources } })).toBe(true);
    for (const key of Object.keys(TASK_RUN_FIELDS) as Array<keyof typeof TASK_RUN_FIELDS>) {
      expect([key, sameTask(base, { ...base, [key]: other[key] })]).toEqual([key, false]);
    }
  });

  it('makes runs of at most MAX_RUN tasks', async () => {
    const batch = Array.from({ length: MAX_RUN * 2 + 3 }, (_, i) => task(i));
    const { sent, received } = await across(batch, nodeSideRuns, workerSideRuns);
    expect(sent).toHaveLength(3);
    expect(plain(received)).toEqual(plain(batch));
  });

  it('packs calls of one actor method, not of two methods or two actors', async () => {
    const call = (i: number, actorId = 'actor-1', method = 'inc'): NodeToWorker => ({
      type: 'actor-call', call: { callId: `call-${i}`, actorId, method, name: `Counter.${method}`, args: encode([i]), argRefs: [] }, argValues: [],
    });
    const batch = [call(0), call(1), call(2), call(3, 'actor-1', 'get'), call(4, 'actor-2'), call(5, 'actor-2')];
    const { sent, received } = await across(batch, nodeSideRuns, workerSideRuns);
    expect(sent.map((m) => (m as { type: string }).type)).toEqual(['call-run', 'actor-call', 'call-run']);
    expect(plain(received)).toEqual(plain(batch));
  });
});

describe('runs of results from a worker', () => {
  it('packs values without refs and expands them; errors and values with refs go as they are', async () => {
    const failed: ClientMessage = { type: 'task-done', taskId: 'task-x', result: { status: 'error', error: { code: 'TASK_ERROR', message: 'boom' } }, runMs: 1 };
    const withRefs: ClientMessage = { type: 'task-done', taskId: 'task-y', result: { status: 'ok', value: { data: encode(1).data, refs: ['obj-1'] } }, runMs: 1 };
    const batch = [done(0), done(1), done(2, 'two'), failed, done(3), withRefs, done(4), done(5)];
    const { sent, received } = await across(batch, workerSideRuns, nodeSideRuns);
    expect(sent.map((m) => (m as { type: string }).type)).toEqual(['done-run', 'task-done', 'task-done', 'task-done', 'done-run']);
    expect(plain(received)).toEqual(plain(batch));
  });

  it('drops a malformed run from a worker with a logged reason, and delivers the messages around it', async () => {
    const channel = new MessageChannel();
    channels.push(channel);
    const node = new PortConnection<ClientMessage, NodeToWorker>(channel.port1, { validate: validateClientMessage, runs: nodeSideRuns });
    const received: string[] = [];
    node.onMessage((message) => received.push(message.type === 'task-done' ? message.taskId : message.type));
    const good = workerSideRuns.pack([done(1), done(2)])[0] as { ids: string[]; data: Uint8Array; ends: number[]; runMs: number[] };
    channel.port2.postMessage([
      done(0),
      { ...good, ids: ['../etc', 'task-2'] },
      { ...good, ends: [1, good.data.byteLength + 5] },
      { ...good, ends: [3, 1] },
      { ...good, runMs: [1] },
      { ...good, data: 'not bytes' },
      { type: 'done-run' },
      good,
      done(3),
    ]);
    await settle();
    expect(received).toEqual(['task-0', 'task-1', 'task-2', 'task-3']);
  });
});
