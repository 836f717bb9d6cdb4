import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '@weft/protocol';
import { TaskTable, UNKNOWN_JOB, type TaskTableChanges } from '../src/task-table.ts';

const event = (taskId: string, state: TaskEvent['state'], more: Partial<TaskEvent> = {}): TaskEvent =>
  ({ taskId, jobId: 'job-1', name: 'square', state, nodeId: 'node-a', submittedAt: 100, ...more });
const done = (taskId: string, more: Partial<TaskEvent> = {}): TaskEvent =>
  event(taskId, 'finished', { startedAt: 110, finishedAt: 130, workerId: 'worker-1', ...more });

describe('TaskTable', () => {
  it('keeps the latest report of each task, with its first submission time and its dependencies', () => {
    const table = new TaskTable();
    table.apply([event('t1', 'waiting', { deps: ['o1'] })]);
    // Spilled: node a reported it waiting, node b (which the head placed it on) runs it.
    table.apply([event('t1', 'running', { nodeId: 'node-b', submittedAt: 120, startedAt: 125, workerId: 'worker-b' })]);
    expect(table.get('t1')).toEqual({ taskId: 't1', jobId: 'job-1', name: 'square', state: 'running', nodeId: 'node-b',
      submittedAt: 100, startedAt: 125, workerId: 'worker-b', deps: ['o1'] });
    // A report of another state replaces the fields of the one before (no worker while queued again).
    table.apply([event('t1', 'queued', { nodeId: 'node-b' })]);
    expect(table.get('t1')).not.toHaveProperty('workerId');
    expect(table.counts()).toEqual({ waiting: 0, queued: 1, running: 0, finished: 0, failed: 0 });
  });

  it('names the job of a task whose node did not, and lists tasks by job', () => {
    const table = new TaskTable();
    const { jobId: _jobId, ...anonymous } = event('t1', 'waiting');
    table.apply([anonymous, event('t2', 'waiting', { jobId: 'job-2' })]);
    expect(table.get('t1')?.jobId).toBe(UNKNOWN_JOB);
    expect(table.list('job-2').map((row) => row.taskId)).toEqual(['t2']);
    expect(table.list('job-none')).toEqual([]);
    expect(table.list().map((row) => row.taskId)).toEqual(['t1', 't2']);
  });

  it('draws an edge from the task that makes an object to each task that takes it, generators\' values included', () => {
    const table = new TaskTable();
    table.apply([done('t1'), event('gen', 'running'), event('t2', 'waiting', { deps: ['t1', 'gen-3', 'put-object-id'] })]);
    const snapshot = table.snapshot('job-1');
    expect(snapshot.edges).toEqual([{ from: 't1', to: 't2', objectId: 't1' }, { from: 'gen', to: 't2', objectId: 'gen-3' }]);
    expect(table.get('t2')?.depTasks).toEqual(['t1', 'gen']);
    expect(snapshot.jobs).toEqual([{ jobId: 'job-1', finished: false, counts: { waiting: 1, queued: 0, running: 1, finished: 1, failed: 0 } }]);
    expect(snapshot.dropped).toBe(0);
  });

  it('draws the edge when the producer is reported after the task that took its object (from another node\'s batch)', () => {
    const table = new TaskTable();
    const seen: TaskTableChanges[] = [];
    table.subscribe((changes) => seen.push(changes));
    table.apply([done('sum', { deps: ['array', 'gen-2'] })]);
    expect(table.get('sum')?.depTasks).toBeUndefined();
    const before = table.get('sum');
    table.apply([done('array', { nodeId: 'node-b' })]);
    expect(table.get('sum')?.depTasks).toEqual(['array']);
    table.apply([event('gen', 'running', { nodeId: 'node-b' })]);
    expect(table.get('sum')?.depTasks).toEqual(['array', 'gen']);
    expect(table.snapshot().edges).toEqual([{ from: 'array', to: 'sum', objectId: 'array' }, { from: 'gen', to: 'sum', objectId: 'gen-2' }]);
    // A listener got the linked row as a change; the row it had before is left as it was.
    expect(seen[1]?.tasks.map((row) => row.taskId)).toEqual(['array', 'sum']);
    expect(before?.depTasks).toBeUndefined();
    expect(table.counts().finished).toBe(2);
  });

  it('keeps only the last historySize finished tasks, oldest finished first, and never a live one', () => {
    const table = new TaskTable({ historySize: 3 });
    table.apply([event('live', 'running')]);
    for (let i = 0; i < 10; i++) table.apply([done(`t${i}`)]);
    expect(table.list().map((row) => row.taskId)).toEqual(['live', 't7', 't8', 't9']);
    expect(table.counts()).toEqual({ waiting: 0, queued: 0, running: 1, finished: 3, failed: 0 });
    // Totals count every task once, the forgotten ones too.
    expect(table.totals()).toEqual({ finished: 10, failed: 0 });
  });

  it('stays within its bounds under a burst of a hundred thousand tasks', () => {
    const table = new TaskTable({ historySize: 1_000, maxLiveTasks: 5_000 });
    const burst = Array.from({ length: 100_000 }, (_, i) => event(`t${i}`, 'waiting'));
    table.apply(burst);
    expect(table.list()).toHaveLength(5_000);
    expect(table.dropped()).toBe(95_000);
    table.apply(burst.slice(0, 5_000).map((row) => done(row.taskId)));
    expect(table.list()).toHaveLength(1_000);
    expect(table.counts().finished).toBe(1_000);
    // The live bound counts live tasks only: room again now.
    table.apply([event('late', 'waiting')], 2);
    expect(table.get('late')).toBeDefined();
    expect(table.dropped()).toBe(95_002);
  });

  it('forgets a job once the history let go of its last task', () => {
    const table = new TaskTable({ historySize: 1 });
    table.apply([done('t1', { jobId: 'job-old' })]);
    table.jobFinished('job-old');
    table.apply([done('t2', { jobId: 'job-new' })]);
    expect(table.snapshot().jobs.map((job) => job.jobId)).toEqual(['job-new']);
  });

  it('ends the unfinished tasks of a finished job as cancelled, and those of a dead node as NODE_DIED', () => {
    const table = new TaskTable();
    table.apply([event('t1', 'running', { startedAt: 110 }), event('t2', 'waiting', { jobId: 'job-2', nodeId: 'node-b' }), done('t3')]);
    table.jobFinished('job-1', 500);
    expect(table.get('t1')).toMatchObject({ state: 'failed', error: 'TASK_CANCELLED', finishedAt: 500 });
    expect(table.get('t3')).toMatchObject({ state: 'finished' });
    expect(table.snapshot('job-1').jobs[0]?.finished).toBe(true);
    table.nodeDied('node-b', 600);
    expect(table.get('t2')).toMatchObject({ state: 'failed', error: 'NODE_DIED' });
    expect(table.totals()).toEqual({ finished: 1, failed: 2 });
    // The node's own report of how t1 ended comes after: it stands, and moves the totals.
    table.apply([done('t1')]);
    expect(table.get('t1')).toMatchObject({ state: 'finished' });
    expect(table.totals()).toEqual({ finished: 2, failed: 1 });
  });

  it('gives each subscriber one batch of changes per batch applied, with tasks finished for the first time and tasks forgotten', () => {
    const table = new TaskTable({ historySize: 1 });
    const batches: TaskTableChanges[] = [];
    const unsubscribe = table.subscribe((changes) => batches.push(changes));
    table.apply([event('t1', 'waiting'), event('t2', 'waiting')]);
    table.apply([done('t1'), done('t2')]);
    table.apply([done('t2')]);
    table.apply([]);
    expect(batches.map((batch) => ({
      tasks: batch.tasks.map((row) => `${row.taskId}:${row.state}`), finished: batch.finished.map((row) => row.taskId), removed: batch.removed,
    }))).toEqual([
      { tasks: ['t1:waiting', 't2:waiting'], finished: [], removed: [] },
      { tasks: ['t1:finished', 't2:finished'], finished: ['t1', 't2'], removed: ['t1'] },
      { tasks: ['t2:finished'], finished: [], removed: [] },
    ]);
    unsubscribe();
    table.apply([event('t3', 'waiting')]);
    expect(batches).toHaveLength(3);
  });

  it('never changes a row it gave a listener, and survives a listener that throws', () => {
    const table = new TaskTable();
    const seen: TaskEvent[] = [];
    table.subscribe(() => { throw new Error('listener bug'); });
    table.subscribe(({ tasks }) => seen.push(...tasks));
    table.apply([event('t1', 'waiting')]);
    table.apply([done('t1')]);
    expect(seen.map((row) => row.state)).toEqual(['waiting', 'finished']);
  });

  it('refuses negative bounds, naming the option', () => {
    expect(() => new TaskTable({ historySize: -1 })).toThrow(/historySize/);
    expect(() => new TaskTable({ maxLiveTasks: Number.NaN })).toThrow(/maxLiveTasks/);
  });
});
