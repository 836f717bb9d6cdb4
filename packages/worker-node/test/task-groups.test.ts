import { describe, expect, it } from 'vitest';
import { encode, type TaskSpec } from '@weft/protocol';
import { TaskGroups, groupKey, pickGroup, type TaskGroup } from '../src/task-groups.ts';
import type { WorkerHandle } from '../src/worker-pool.ts';

const spec = (more: Partial<TaskSpec> = {}): TaskSpec => ({
  taskId: 't-1', jobId: 'job-1', fn: { module: 'tasks.ts', name: 'download' }, name: 'download', args: encode([]), argRefs: [],
  resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false, maxConcurrency: 4, ...more,
});
const worker = (id: string) => ({ id }) as unknown as WorkerHandle;
const group = (id: string, members: number, limit = 4): TaskGroup => ({ key: 'k', worker: worker(id), limit, members, holding: 1 });

describe('which group a queued call joins', () => {
  it.each([
    ['no group', [], [], undefined],
    ['the only group with room', [group('w1', 2)], [], 'w1'],
    ['none when every group is full', [group('w1', 4), group('w2', 4)], [], undefined],
    ['the group with the fewest calls', [group('w1', 3), group('w2', 1), group('w3', 2)], [], 'w2'],
    ['not a group whose worker takes no tasks', [group('w1', 1), group('w2', 2)], ['w1'], 'w2'],
  ] as Array<[string, TaskGroup[], string[], string | undefined]>)('%s', (_, groups, refusing, expected) => {
    expect(pickGroup(groups, (w) => !refusing.includes(w.id))?.worker.id).toBe(expected);
  });

  it('puts calls in one group only when their job, function, limit and resources are the same', () => {
    const base = groupKey(spec());
    expect(groupKey(spec({ taskId: 't-2', name: 'other name' }))).toBe(base);
    expect(groupKey(spec({ resources: { CPU: 1 } }))).toBe(base);
    for (const other of [{ jobId: 'job-2' }, { fn: { module: 'tasks.ts', name: 'upload' } }, { fn: { module: 'x.ts', name: 'download' } },
      { maxConcurrency: 8 }, { resources: { CPU: 0.5 } }, { resources: { CPU: 1, gpu: 1 } }] as Array<Partial<TaskSpec>>) {
      expect(groupKey(spec(other)), JSON.stringify(other)).not.toBe(base);
    }
  });

  it('forgets a group when its last call leaves, and offers no room to calls that do not overlap', () => {
    const groups = new TaskGroups(() => true);
    const opened = groups.open(spec(), worker('w1'));
    expect(groups.roomFor(spec())).toBe(opened);
    expect(groups.roomFor(spec({ maxConcurrency: 1 }))).toBeUndefined();
    expect(groups.roomFor(spec({ maxConcurrency: undefined }))).toBeUndefined();
    groups.join(opened);
    groups.leave(opened);
    expect(groups.size).toBe(1);
    groups.leave(opened);
    expect(groups.size).toBe(0);
    expect(groups.roomFor(spec())).toBeUndefined();
  });
});
