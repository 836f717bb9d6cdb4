import { describe, expect, it } from 'vitest';
import { JobRegistry, MAX_FINISHED_JOBS } from '../src/job-registry.ts';

describe('JobRegistry', () => {
  it('keeps a running job\'s uploaded working directory and drops it when the job finishes', () => {
    const jobs = new JobRegistry();
    jobs.event('job-a', 'started', 'node-1');
    jobs.putPackage('job-a', new Uint8Array([1, 2, 3]));
    expect(jobs.packageOf('job-a')).toEqual(new Uint8Array([1, 2, 3]));
    expect(jobs.packageOf('job-b')).toBeUndefined();
    jobs.event('job-a', 'finished', 'node-1');
    expect(jobs.packageOf('job-a')).toBeUndefined();
    expect(jobs.all()).toMatchObject([{ jobId: 'job-a', state: 'finished', nodeId: 'node-1' }]);
  });

  it('forgets the oldest finished jobs beyond the last MAX_FINISHED_JOBS, never a running one', () => {
    const jobs = new JobRegistry();
    jobs.event('running', 'started', 'node-1');
    for (let i = 0; i < MAX_FINISHED_JOBS + 5; i++) jobs.event(`job-${i}`, 'finished', 'node-1');
    const ids = jobs.all().map((job) => job.jobId);
    expect(ids).toHaveLength(MAX_FINISHED_JOBS + 1);
    expect(ids).toContain('running');
    expect(ids).not.toContain('job-4');
    expect(ids).toContain('job-5');
  });
});
