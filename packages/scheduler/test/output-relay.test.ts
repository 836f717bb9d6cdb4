import { describe, expect, it } from 'vitest';
import { relayTargets } from '../src/output-relay.ts';
import type { JobRecord } from '../src/job-registry.ts';

const chunk = (taskId: string, jobId: string) => ({ taskId, jobId, name: 'f', stream: 'stdout' as const, lines: [taskId] });

describe('relaying task output at the head', () => {
  it('sends each job\'s lines to the node of its running driver, in order, and drops the rest', () => {
    const jobs: Record<string, JobRecord> = {
      'job-a': { jobId: 'job-a', state: 'started', nodeId: 'node-1', since: 0 },
      'job-b': { jobId: 'job-b', state: 'started', nodeId: 'node-2', since: 0 },
      'job-done': { jobId: 'job-done', state: 'finished', nodeId: 'node-1', since: 0 },
      'job-here': { jobId: 'job-here', state: 'started', nodeId: 'node-3', since: 0 },
    };
    const targets = relayTargets([chunk('t1', 'job-a'), chunk('t2', 'job-b'), chunk('t3', 'job-a'), chunk('t4', 'job-done'),
      chunk('t5', 'job-unknown'), chunk('t6', 'job-here')], (jobId) => jobs[jobId], 'node-3');
    expect([...targets].map(([node, chunks]) => [node, chunks.map((c) => c.taskId)])).toEqual([['node-1', ['t1', 't3']], ['node-2', ['t2']]]);
  });
});
