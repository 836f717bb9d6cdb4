import { describe, expect, it } from 'vitest';
import { encode, type TaskSpec } from '@weft/protocol';
import { afterExit, crashError } from '../src/worker-exit.ts';

const spec = (maxRetries: number): TaskSpec => ({
  taskId: 't-1', jobId: 'job-1', fn: { module: 'tasks.ts', name: 'f' }, name: 'f', args: encode([]), argRefs: [], resources: { CPU: 1 },
  maxRetries, retryExceptions: false,
});

describe('what becomes of a task whose worker ended', () => {
  it.each([
    ['a started task with retries left is retried', 3, 0, true, false, 'retry'],
    ['a started task out of retries fails', 3, 3, true, false, 'fail'],
    ['a task with maxRetries -1 is always retried', -1, 50, true, false, 'retry'],
    ['a task sent ahead but not started is queued again without a charge', 0, 0, false, false, 'requeue'],
    ['a task beside a cancelled one (the node ended the worker) is queued again without a charge', 0, 0, true, true, 'requeue'],
  ] as Array<[string, number, number, boolean, boolean, string]>)('%s', (_, maxRetries, retries, started, endedByNode, expected) => {
    expect(afterExit({ spec: spec(maxRetries), retries }, started, endedByNode)).toBe(expected);
  });

  it.each([
    ['started, with retries left', -1, true, false],
    ['beside a cancelled task', 3, true, true],
    ['its start not yet seen by the node', 3, false, false],
  ] as Array<[string, number, boolean, boolean]>)('fails a generator that had yielded, %s, with an error that says why', (_, maxRetries, started, endedByNode) => {
    const task = { spec: spec(maxRetries), retries: 0, yielded: true };
    expect(afterExit(task, started, endedByNode)).toBe('fail');
    expect(crashError(task, 'the worker exited with code 1')).toMatchObject({ code: 'WORKER_CRASHED', message: expect.stringContaining('after it had yielded values') });
  });
});
