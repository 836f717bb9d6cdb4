import { describe, expect, it } from 'vitest';
import { encode, type TaskSpec } from '@weft/protocol';
import { SpilledTasks, afterNodeLoss } from '../src/spilled-tasks.ts';
import { newTaskRecord } from '../src/task-record.ts';

const spec = (taskId: string, maxRetries = 0): TaskSpec => ({
  taskId, jobId: 'job-1', fn: { module: 'tasks.ts', name: 'f' }, name: 'f', args: encode([]), argRefs: [], resources: { CPU: 1 },
  maxRetries, retryExceptions: false,
});

describe('what becomes of a spilled task whose node died', () => {
  it.each([
    ['a task with retries left runs again', 3, 0, false, undefined],
    ['a task with maxRetries -1 always runs again', -1, 50, false, undefined],
    ['a task out of retries fails', 2, 2, false, 'after 2 retries (maxRetries 2)'],
    ['a generator that had yielded fails, retries left or not', -1, 0, true, 'it had yielded values'],
  ] as Array<[string, number, number, boolean, string | undefined]>)('%s', (_, maxRetries, retries, yielded, says) => {
    const error = afterNodeLoss({ spec: spec('t-1', maxRetries), retries, yielded }, 'node-bbbbbbbbbbbb', 'died');
    if (says === undefined) expect(error).toBeUndefined();
    else expect(error).toMatchObject({ code: 'NODE_DIED', message: expect.stringContaining(says) });
  });
});

describe('the bookkeeping of spilled tasks', () => {
  const setUp = () => {
    const spilled: string[] = [];
    const cancels: Array<[string, string]> = [];
    const tasks = new SpilledTasks('node-aaaaaaaaaaaa', {
      spill: (task) => void spilled.push(task.taskId), remoteView: () => ({ free: 0, cpus: 0, queued: 0 }),
      cancelRemote: (nodeId, taskId) => void cancels.push([nodeId, taskId]),
    });
    return { tasks, spilled, cancels };
  };

  it('counts the tasks spilled since the last report of the other nodes', () => {
    const { tasks, spilled } = setUp();
    const task = newTaskRecord(spec('t-1'), undefined);
    tasks.send(task);
    tasks.send(newTaskRecord(spec('t-2'), undefined));
    expect(task.state).toBe('spilled');
    expect(spilled).toEqual(['t-1', 't-2']);
    expect(tasks.sinceView()).toBe(2);
    tasks.viewUpdated();
    expect(tasks.sinceView()).toBe(0);
  });

  it('owes no cancel to where a task went once its result came back', () => {
    const { tasks, cancels } = setUp();
    const task = newTaskRecord(spec('t-1'), undefined);
    tasks.send(task);
    tasks.cancel(task);
    tasks.settled('t-1');
    tasks.placedOn(undefined, 't-1', 'node-bbbbbbbbbbbb');
    expect(cancels).toEqual([]);
  });

  it('forgets the oldest cancels of tasks not come yet beyond its bound', () => {
    const { tasks } = setUp();
    for (let i = 0; i <= 10_000; i++) tasks.cancelAhead(`t-${i}`);
    expect(tasks.takeCancelledAhead('t-0')).toBe(false);
    expect(tasks.takeCancelledAhead('t-10000')).toBe(true);
    expect(tasks.takeCancelledAhead('t-10000')).toBe(false);
  });
});
