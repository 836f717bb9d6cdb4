import { describe, expect, it } from 'vitest';
import { nextSubmission, SubmissionTable, type JobSubmission, type SubmissionEvent } from '../src/submission-table.ts';

const pending: JobSubmission = { submissionId: 'submit-a', state: 'PENDING', entrypoint: ['tsx', 'main.ts'], submittedAt: 1 };
const running: JobSubmission = { ...pending, state: 'RUNNING', startedAt: 2, pid: 42 };
const stopping: JobSubmission = { ...running, stopRequested: true };

const started: SubmissionEvent = { type: 'started', pid: 42, at: 2 };
const exited0: SubmissionEvent = { type: 'exited', exitCode: 0, signal: null, at: 3 };
const exited3: SubmissionEvent = { type: 'exited', exitCode: 3, signal: null, at: 3 };
const killed: SubmissionEvent = { type: 'exited', exitCode: null, signal: 'SIGKILL', at: 3 };
const failed: SubmissionEvent = { type: 'failed', message: 'command not found', at: 3 };
const stop: SubmissionEvent = { type: 'stop-requested', at: 3 };

describe('nextSubmission', () => {
  it.each([
    ['PENDING', pending, started, 'RUNNING'],
    ['PENDING', pending, failed, 'FAILED'],
    ['PENDING', pending, stop, 'STOPPED'],
    ['RUNNING', running, exited0, 'SUCCEEDED'],
    ['RUNNING', running, exited3, 'FAILED'],
    ['RUNNING', running, killed, 'FAILED'],
    ['RUNNING', running, stop, 'RUNNING'],
    ['RUNNING (stop asked)', stopping, exited0, 'STOPPED'],
    ['RUNNING (stop asked)', stopping, killed, 'STOPPED'],
  ] as const)('goes from %s on %o to the right state', (_from, job, event, expected) => {
    expect(nextSubmission(job, event).state).toBe(expected);
  });

  it('records the pid and start time when it starts, the exit code or signal and end time when it ends', () => {
    const afterStart = nextSubmission(pending, started);
    expect(afterStart).toMatchObject({ pid: 42, startedAt: 2 });
    expect(nextSubmission(afterStart, exited3)).toMatchObject({ exitCode: 3, endedAt: 3, message: 'the command exited with code 3' });
    const afterKill = nextSubmission(afterStart, killed);
    expect(afterKill).toMatchObject({ signal: 'SIGKILL', endedAt: 3, message: 'the command was killed by SIGKILL' });
    expect(afterKill.exitCode).toBeUndefined();
  });

  it('changes nothing once a submission has ended', () => {
    for (const final of [nextSubmission(running, exited0), nextSubmission(running, exited3), nextSubmission(pending, stop)]) {
      for (const event of [started, exited0, exited3, killed, failed, stop]) expect(nextSubmission(final, event)).toBe(final);
    }
  });

  it('does not start a submission twice', () => {
    expect(nextSubmission(running, { type: 'started', pid: 7, at: 9 })).toBe(running);
  });
});

describe('SubmissionTable', () => {
  it('refuses an id that is taken', () => {
    const table = new SubmissionTable();
    expect(table.add('job-1', ['node', 'a.js'], 1)).toBe(true);
    expect(table.add('job-1', ['node', 'b.js'], 2)).toBe(false);
    expect(table.get('job-1')?.entrypoint).toEqual(['node', 'a.js']);
  });

  it('returns undefined for an unknown id', () => {
    expect(new SubmissionTable().apply('nope', started)).toBeUndefined();
  });

  it('keeps the last maxFinished finished submissions, forgets older ones and never a running one', () => {
    const table = new SubmissionTable(3);
    table.add('long', ['x'], 0);
    table.apply('long', started);
    const forgotten: string[] = [];
    for (let i = 0; i < 5; i++) {
      table.add(`job-${i}`, ['x'], i + 1);
      table.apply(`job-${i}`, started);
      forgotten.push(...(table.apply(`job-${i}`, exited0)?.forgotten ?? []));
    }
    expect(forgotten).toEqual(['job-0', 'job-1']);
    expect(table.all().map((job) => job.submissionId)).toEqual(['long', 'job-2', 'job-3', 'job-4']);
    expect(table.unfinished().map((job) => job.submissionId)).toEqual(['long']);
  });

  it('counts a submission as finished once, however many events follow', () => {
    const table = new SubmissionTable(1);
    table.add('a', ['x'], 1);
    table.apply('a', failed);
    expect(table.apply('a', exited0)?.forgotten).toEqual([]);
    table.add('b', ['x'], 2);
    expect(table.apply('b', stop)?.forgotten).toEqual(['a']);
  });
});
