import { describe, expect, it } from 'vitest';
import { formatTaskOutput } from '../src/task-output-printer.ts';

const origin = { pid: 1234, nodeId: 'node-abc', ip: '10.0.0.2' };

describe('the task output a driver prints', () => {
  it('prefixes each line with the task, pid, node and ip, as Ray does, stdout and stderr apart', () => {
    const text = formatTaskOutput(origin, [
      { taskId: 'task-1', jobId: 'job-1', name: 'square', stream: 'stdout', lines: ['hello', 'world'] },
      { taskId: 'task-2', jobId: 'job-1', name: 'Counter.inc', stream: 'stderr', lines: ['oops'] },
    ]);
    expect(text.stdout).toBe('(square pid=1234 node=node-abc ip=10.0.0.2) hello\n(square pid=1234 node=node-abc ip=10.0.0.2) world\n');
    expect(text.stderr).toBe('(Counter.inc pid=1234 node=node-abc ip=10.0.0.2) oops\n');
  });

  it('says how many lines were dropped before the lines that follow', () => {
    const text = formatTaskOutput(origin, [
      { taskId: 'task-1', jobId: 'job-1', name: 'flood', stream: 'stdout', lines: ['next'], dropped: 1 },
      { taskId: 'task-1', jobId: 'job-1', name: 'flood', stream: 'stdout', lines: [], dropped: 98_000 },
    ]);
    expect(text.stdout).toBe('(flood pid=1234 node=node-abc ip=10.0.0.2) … 1 line dropped\n(flood pid=1234 node=node-abc ip=10.0.0.2) next\n'
      + '(flood pid=1234 node=node-abc ip=10.0.0.2) … 98000 lines dropped\n');
    expect(text.stderr).toBe('');
  });
});
