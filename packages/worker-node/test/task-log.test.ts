import { describe, expect, it } from 'vitest';
import { encode, type TaskSpec } from '@weft/protocol';
import { MAX_PENDING_EVENTS, TaskLog } from '../src/task-log.ts';

const spec = (taskId: string, deps: string[] = []): TaskSpec => ({
  taskId, jobId: 'job-1', fn: { module: 'm.ts', name: 'square' }, name: 'square', args: encode([]), argRefs: deps.map((id, i) => [i, id]),
  resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false,
});

describe('TaskLog', () => {
  it('sends a task that moved several times between two drains once, as it is at the drain', () => {
    const log = new TaskLog('node-a');
    log.submitted(spec('t1', ['o1']));
    log.queued('t1');
    log.started('t1', 'worker-1');
    log.finished('t1', undefined);
    log.submitted(spec('t2'));
    const { events, dropped } = log.drain();
    expect(dropped).toBe(0);
    expect(events).toMatchObject([
      { taskId: 't1', jobId: 'job-1', name: 'square', state: 'finished', nodeId: 'node-a', workerId: 'worker-1', deps: ['o1'] },
      { taskId: 't2', state: 'waiting' },
    ]);
    expect(events[0]?.startedAt).toBeTypeOf('number');
    expect(log.drain().events).toEqual([]);
    log.started('t2', 'worker-2');
    expect(log.drain().events.map((event) => `${event.taskId}:${event.state}`)).toEqual(['t2:running']);
  });

  it('drains copies: the log keeps changing its own records afterwards', () => {
    const log = new TaskLog('node-a');
    log.submitted(spec('t1'));
    const [sent] = log.drain().events;
    log.started('t1', 'worker-1');
    expect(sent?.state).toBe('waiting');
  });

  it('does not send a task spilled to another node before it was sent (that node reports it)', () => {
    const log = new TaskLog('node-a');
    log.submitted(spec('t1'));
    log.forget('t1');
    log.started('t1', 'worker-1');
    expect(log.drain().events).toEqual([]);
    expect(log.all()).toEqual([]);
  });

  it('keeps live tasks whatever their number, and counts what its outbox could not hold', () => {
    const log = new TaskLog('node-a');
    for (let i = 0; i < MAX_PENDING_EVENTS + 3; i++) log.submitted(spec(`t${i}`));
    const { events, dropped } = log.drain();
    expect(events).toHaveLength(MAX_PENDING_EVENTS);
    expect(dropped).toBe(3);
    expect(log.all()).toHaveLength(MAX_PENDING_EVENTS + 3);
    expect(log.drain()).toEqual({ events: [], dropped: 0 });
  });
});
