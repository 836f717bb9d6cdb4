import { describe, expect, it } from 'vitest';
import { encode, type TaskSpec } from '@weft/protocol';
import { MAX_PENDING_EVENTS, TaskLog, type Logged } from '../src/task-log.ts';

const spec = (taskId: string, deps: string[] = []): TaskSpec => ({
  taskId, jobId: 'job-1', fn: { module: 'm.ts', name: 'square' }, name: 'square', args: encode([]), argRefs: deps.map((id, i) => [i, id]),
  resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false,
});
/** A scheduler record as far as the log sees it. */
const task = (taskId: string, deps: string[] = []): Logged => ({ spec: spec(taskId, deps), event: undefined, eventBatch: 0 });

describe('TaskLog', () => {
  it('sends a task that moved several times between two drains once, as it is at the drain', () => {
    const log = new TaskLog('node-a');
    const t1 = task('t1', ['o1']);
    const t2 = task('t2');
    log.submitted(t1);
    log.queued(t1);
    log.started(t1, 'worker-1');
    log.finished(t1, undefined);
    log.submitted(t2);
    const { events, dropped } = log.drain();
    expect(dropped).toBe(0);
    expect(events).toMatchObject([
      { taskId: 't1', jobId: 'job-1', name: 'square', state: 'finished', nodeId: 'node-a', workerId: 'worker-1', deps: ['o1'] },
      { taskId: 't2', state: 'waiting' },
    ]);
    expect(events[0]?.startedAt).toBeTypeOf('number');
    expect(log.drain().events).toEqual([]);
    log.started(t2, 'worker-2');
    log.finished(t2, { code: 'TASK_ERROR', message: 'bad input', remoteName: 'RangeError' });
    expect(log.drain().events).toMatchObject([{ taskId: 't2', state: 'failed', error: 'TASK_ERROR', errorMessage: 'RangeError: bad input' }]);
    expect(log.recent().map((event) => event.taskId)).toEqual(['t1', 't2']);
  });

  it('drains copies of live tasks: the log keeps changing its own records afterwards', () => {
    const log = new TaskLog('node-a');
    const t1 = task('t1');
    log.submitted(t1);
    const [sent] = log.drain().events;
    log.started(t1, 'worker-1');
    expect(sent?.state).toBe('waiting');
  });

  it('does not send a task spilled to another node before it was sent (that node reports it)', () => {
    const log = new TaskLog('node-a');
    const t1 = task('t1');
    log.submitted(t1);
    log.forget(t1);
    log.started(t1, 'worker-1');
    expect(log.drain().events).toEqual([]);
    expect(t1.event).toBeUndefined();
  });

  it('counts what its outbox could not hold', () => {
    const log = new TaskLog('node-a');
    for (let i = 0; i < MAX_PENDING_EVENTS + 3; i++) log.submitted(task(`t${i}`));
    const { events, dropped } = log.drain();
    expect(events).toHaveLength(MAX_PENDING_EVENTS);
    expect(dropped).toBe(3);
    expect(log.drain()).toEqual({ events: [], dropped: 0 });
  });
});
