/**
 * shutdown() then init() again in one driver (as ray.shutdown(); ray.init()): the refs of the
 * first runtime are dead. The new runtime neither tracks them nor tells its node about them
 * (before, it announced every live one, and its node tried to borrow them from the stopped node,
 * logging it unreachable and dropping what it had queued), and a call given one fails at once
 * with an error that says so, while new work runs. Once in this process (vitest runs it with
 * --expose-gc), once as a driver process of its own whose node's logs are read.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { init, shutdown } from '@weft/core';
import { countTo } from '../fixtures/streaming-generators.ts';
import { rejectionOf } from '../support/outcome.ts';
import { restartAndUse, type Failure, type RestartReport } from '../fixtures/restart-driver.ts';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
/** Far below the ~9 s the node spent trying to reach the stopped node before failing a get. */
const PROMPT_MS = 2_000;
const STALE = /ObjectRef \S+ belongs to a weft runtime that was shut down; refs do not outlive shutdown\(\).*put\(\) it again, or call its task again/;

function expectPromptFailure(failure: Failure, call: RegExp): void {
  expect(failure.code).toBe('OBJECT_LOST');
  expect(failure.message).toMatch(call);
  expect(failure.message).toMatch(STALE);
  expect(failure.ms).toBeLessThan(PROMPT_MS);
}

function expectReport(report: RestartReport): void {
  expect(report.newNodeId).not.toBe(report.oldNodeId);
  expect(report.before).toBe(2 * (19 * 20) / 2);
  expect(report.after).toBe(42);
  expect(report.collected).toBe(true);
  expectPromptFailure(report.staleGet, /^get\(\): /);
  expectPromptFailure(report.staleArgument, /^add\.remote\(\): /);
  expectPromptFailure(report.staleNested, /^identity\.remote\(\): /);
}

/** The JSON log lines of a process's stderr (weft logs JSON when stderr is not a terminal). */
function logLines(stderr: string): Array<{ level: number; msg: string; [field: string]: unknown }> {
  return stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string });
}

describe('a driver that calls init() again after shutdown()', () => {
  it('fails a get or a task given a ref of the first runtime at once with a clear error, and runs new work', async () => {
    expectReport(await restartAndUse());
  });

  it('sends its new node nothing about the first runtime\'s objects: no borrows, nothing unreachable or dropped', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'restart-driver.ts'], {
      cwd: FIXTURES, timeout: 50_000, env: { ...process.env, WEFT_LOG_LEVEL: 'debug', WEFT_LOG_PRETTY: '0' },
    });
    const logs = logLines(stderr);
    expect(logs.some((line) => line.msg === 'node registered')).toBe(true); // the debug logs were read
    // An embedded node has no peers: a borrow could only be of the stopped node's objects.
    const borrows = logs.filter((line) => line.msg === 'borrowing objects');
    expect(borrows.map((line) => ({ owner: line.owner, objects: (line.objectIds as string[]).length }))).toEqual([]);
    expect(logs.filter((line) => line.level >= 40 || 'dropped' in line).map(({ msg, nodeId, dropped }) => ({ msg, nodeId, dropped }))).toEqual([]);
    expectReport(JSON.parse(stdout.trim().split('\n').pop() as string) as RestartReport);
  });

  it('fails the next() of a generator of the first runtime with an error that says so', async () => {
    await init({ numCpus: 1 });
    let gen: ReturnType<typeof countTo.remote>;
    try {
      gen = countTo.remote(3);
      expect((await gen.next()).done).toBe(false);
    } finally {
      await shutdown();
    }
    await init({ numCpus: 1 });
    try {
      const error = await rejectionOf(gen.next());
      expect((error as Error).message).toMatch(/belongs to a weft runtime that was shut down .*make it anew in the current runtime/);
    } finally {
      await shutdown();
    }
  }, 60_000);
});
