import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SerializationError, TaskError, TaskUnschedulableError, get, init, shutdown,
} from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { attemptsIn } from '../fixtures/attempts.ts';
import { passThrough, returnFunction, throwRangeError, throwUntilAttempt } from '../fixtures/throwing-task.ts';
import { rejectionOf, timedRejectionOf } from '../support/outcome.ts';

let tmp: string;
let counters = 0;
const counterFile = (): string => path.join(tmp, `attempts-${++counters}`);

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-task-errors-'));
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  rmSync(tmp, { recursive: true, force: true });
});

describe('exceptions thrown by tasks', () => {
  it('reaches get as a TaskError with the remote message, the task name and the original class in cause', async () => {
    const error = await rejectionOf(get(throwRangeError.remote(7)));
    expect(error).toBeInstanceOf(TaskError);
    const taskError = error as TaskError;
    expect(taskError.code).toBe('TASK_ERROR');
    expect(taskError.remoteMessage).toBe('value out of range: limit 7');
    expect(taskError.message).toContain('value out of range: limit 7');
    expect(taskError.taskName).toBe('throwRangeError');
    expect(taskError.cause).toBe('RangeError');
  });

  it('keeps the user frames of the remote stack and drops the framework frames', async () => {
    const error = (await rejectionOf(get(throwRangeError.remote(1)))) as TaskError;
    expect(error.remoteStack).toContain('throwing-task.ts');
    expect(error.remoteStack).not.toMatch(/packages\/(worker-node|core)\/src\//);
  });

  it('fails every task downstream of a failed dependency with that dependency\'s TaskError', async () => {
    const a = throwRangeError.remote(3);
    const b = passThrough.remote(a);
    const c = passThrough.remote(b);
    const fromC = await rejectionOf(get(c));
    expect(fromC).toBeInstanceOf(TaskError);
    expect((fromC as TaskError).taskName).toBe('throwRangeError');
    expect((fromC as TaskError).remoteMessage).toBe('value out of range: limit 3');
    const fromB = (await rejectionOf(get(b))) as TaskError;
    expect(fromB.taskName).toBe('throwRangeError');
  });

  it('does not retry an application exception by default', async () => {
    const file = counterFile();
    // With retries the second attempt would succeed: a rejection proves there was none.
    const error = await rejectionOf(get(throwUntilAttempt.remote(file, 1)));
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).remoteMessage).toBe('flaky failure on attempt 1');
    expect(attemptsIn(file)).toBe(1);
  });

  it('retries an application exception when retryExceptions is set, and then succeeds', async () => {
    const file = counterFile();
    const ref = throwUntilAttempt.options({ retryExceptions: true, maxRetries: 2 }).remote(file, 1);
    expect(await get(ref)).toBe(2);
    expect(attemptsIn(file)).toBe(2);
  });

  it('gives up retrying exceptions after maxRetries and reports the last TaskError', async () => {
    const file = counterFile();
    const ref = throwUntilAttempt.options({ retryExceptions: true, maxRetries: 2 }).remote(file, 10);
    const error = (await rejectionOf(get(ref))) as TaskError;
    expect(error).toBeInstanceOf(TaskError);
    expect(error.remoteMessage).toBe('flaky failure on attempt 3');
    expect(attemptsIn(file)).toBe(3);
  });
});

describe('arguments and results that cannot be serialized', () => {
  it('rejects a function argument at .remote() synchronously with a SerializationError naming the function', () => {
    function callback(): number {
      return 1;
    }
    let thrown: unknown;
    try {
      passThrough.remote(callback);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SerializationError);
    expect((thrown as SerializationError).code).toBe('SERIALIZATION');
    expect((thrown as Error).message).toMatch(/function/);
    expect((thrown as Error).message).toContain('callback');
  });

  it('rejects a class instance argument at .remote() synchronously with a SerializationError naming the class', () => {
    class Portfolio {
      positions = [1, 2];
    }
    expect(() => passThrough.remote({ nested: new Portfolio() })).toThrow(SerializationError);
    expect(() => passThrough.remote(new Portfolio())).toThrow(/Portfolio/);
  });

  it('fails get with a SerializationError when a task returns a function', async () => {
    const error = await rejectionOf(get(returnFunction.remote()));
    expect(error).toBeInstanceOf(SerializationError);
    expect(error.code).toBe('SERIALIZATION');
    expect(error.message).toContain('returnFunction');
  });
});

describe('tasks the cluster can never run', () => {
  it('fails a task that asks for more CPUs than the cluster has within a second, instead of hanging', async () => {
    const { error, ms } = await timedRejectionOf(get(add.options({ numCpus: 8 }).remote(1, 2)));
    expect(error).toBeInstanceOf(TaskUnschedulableError);
    expect(error.code).toBe('TASK_UNSCHEDULABLE');
    expect(error.message).toMatch(/CPU/);
    expect(ms).toBeLessThan(1000);
  });

  it('fails a task that asks for a custom resource no node has within a second', async () => {
    const { error, ms } = await timedRejectionOf(get(add.options({ resources: { gpu: 1 } }).remote(1, 2)));
    expect(error.code).toBe('TASK_UNSCHEDULABLE');
    expect(error.message).toMatch(/gpu/);
    expect(ms).toBeLessThan(1000);
  });

  it('keeps running other tasks after failures', async () => {
    expect(await get([add.remote(1, 2), add.remote(3, 4)])).toEqual([3, 7]);
  });
});
