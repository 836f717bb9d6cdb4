import { describe, expect, it } from 'vitest';
import { TaskLogs } from '../src/task-logs.ts';

const chunk = (taskId: string, lines: string[], extra: { jobId?: string; dropped?: number; stream?: 'stdout' | 'stderr' } = {}) => ({
  taskId, jobId: extra.jobId ?? 'job-1', name: `fn-${taskId}`, stream: extra.stream ?? 'stdout' as const, lines,
  ...(extra.dropped !== undefined ? { dropped: extra.dropped } : {}),
});

describe('the lines a node keeps', () => {
  it('keeps the last lines of each task and counts the older ones as dropped on the first kept', () => {
    const logs = new TaskLogs({ maxLinesPerTask: 3 });
    logs.add(chunk('task-1', ['a', 'b', 'c', 'd', 'e']));
    const lines = logs.query({ taskId: 'task-1' });
    expect(lines.map((line) => line.text)).toEqual(['c', 'd', 'e']);
    expect(lines[0]!.dropped).toBe(2);
    expect(lines.map((line) => line.seq)).toEqual([3, 4, 5]);
  });

  it('keeps the count of lines a worker dropped, on the next line or as an empty line', () => {
    const logs = new TaskLogs();
    logs.add(chunk('task-1', ['x'], { dropped: 7 }));
    logs.add(chunk('task-2', [], { dropped: 3 }));
    expect(logs.query({}).map((line) => [line.text, line.dropped])).toEqual([['x', 7], ['', 3]]);
  });

  it('answers by job, by task and after a line number, in the order lines came', () => {
    const logs = new TaskLogs();
    logs.add(chunk('task-1', ['1a']));
    logs.add(chunk('task-2', ['2a'], { jobId: 'job-2' }));
    logs.add(chunk('task-1', ['1b'], { stream: 'stderr' }));
    expect(logs.query({}).map((line) => line.text)).toEqual(['1a', '2a', '1b']);
    expect(logs.query({ jobId: 'job-1' }).map((line) => line.text)).toEqual(['1a', '1b']);
    expect(logs.query({ taskId: 'task-2' }).map((line) => line.text)).toEqual(['2a']);
    expect(logs.query({ afterSeq: 1 }).map((line) => line.text)).toEqual(['2a', '1b']);
    expect(logs.query({ taskId: 'task-9' })).toEqual([]);
  });

  it('forgets the tasks written to least recently when the node keeps too many lines', () => {
    const logs = new TaskLogs({ maxLines: 4 });
    logs.add(chunk('task-1', ['a', 'b']));
    logs.add(chunk('task-2', ['c', 'd']));
    logs.add(chunk('task-1', ['e']));
    logs.add(chunk('task-3', ['f']));
    expect(logs.query({}).map((line) => line.text)).toEqual(['a', 'b', 'e', 'f']);
  });

  it('forgets whole tasks past the characters it may keep', () => {
    const logs = new TaskLogs({ maxChars: 10 });
    logs.add(chunk('task-1', ['12345678']));
    logs.add(chunk('task-2', ['12345']));
    expect(logs.query({}).map((line) => line.taskId)).toEqual(['task-2']);
  });
});
