/**
 * The task runner of a worker (Executor) without a thread: a recording runtime collects what the
 * worker would send its node, a fake loader gives the functions. Tasks of a loaded function end
 * in the turn they start when they return a value; the results of quick ones wait to leave
 * together, and a task that is not known to be quick first sends what waits.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, type ClientMessage, type ClientRuntime, type Result, type TaskSpec } from '@weft/protocol';
import { Executor } from '../src/executor.ts';
import { QuickCalls } from '../src/quick-calls.ts';
import type { ModuleLoader } from '../src/module-loader.ts';

const settle = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin: a long sync task */ }
}

const functions: Record<string, (...args: unknown[]) => unknown> = {
  double: (x) => (x as number) * 2,
  later: async (x) => {
    await settle(5);
    return (x as number) + 1;
  },
  fail: () => {
    throw new RangeError('no such thing');
  },
  rejects: async () => {
    throw new TypeError('not today');
  },
  slow: (x) => {
    busyFor(5);
    return x;
  },
  // Quick but for two arguments.
  sometimes: (x) => {
    if (x === 'slow') busyFor(10);
    if (x === 'hiccup') busyFor(3);
    return x;
  },
};

function setUp() {
  // What was sent, and the points at which the executor flushed (each records how many had been sent then).
  const sent: ClientMessage[] = [];
  const flushes: number[] = [];
  let loads = 0;
  const runtime = { send: (message: ClientMessage) => sent.push(message), waitHooks: undefined } as unknown as ClientRuntime;
  const loader = {
    loadFunction: async (fn: { name: string }) => {
      loads += 1;
      return functions[fn.name];
    },
    dirOf: () => '/job',
  } as unknown as ModuleLoader;
  const executor = new Executor(runtime, loader, new QuickCalls(() => flushes.push(sent.length)));
  return { executor, sent, flushes, loads: () => loads };
}

let next = 0;
const task = (name: string, arg: unknown): TaskSpec => ({
  taskId: `task-${name}-${next++}`, jobId: 'job-1', fn: { module: 'tasks.ts', name }, name, args: encode([arg]), argRefs: [],
  resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false,
});
const outcome = (message: ClientMessage): unknown => {
  if (message.type !== 'task-done') return message.type;
  const result = message.result as Result;
  return result.status === 'ok' ? decode(result.value.data) : `${result.error.remoteName ?? result.error.code}: ${result.error.message}`;
};

describe('Executor', () => {
  it('runs tasks in order; once loaded, a function that returns a value ends in the turn it starts', async () => {
    const { executor, sent, loads } = setUp();
    executor.execute(task('double', 1), []);
    await settle();
    expect(sent.map(outcome)).toEqual([2]);
    for (let i = 2; i <= 5; i++) executor.execute(task('double', i), []);
    // No await: the four ended already, in order, and the module was loaded once.
    expect(sent.map(outcome)).toEqual([2, 4, 6, 8, 10]);
    expect(loads()).toBe(1);
  });

  it('reports async results, throws and rejections of loaded functions, keeping the order of the backlog', async () => {
    const { executor, sent } = setUp();
    for (const name of ['double', 'later', 'fail', 'rejects']) executor.execute(task(name, 1), []);
    await settle(30);
    executor.execute(task('later', 10), []);
    executor.execute(task('fail', 0), []);
    executor.execute(task('double', 7), []);
    executor.execute(task('rejects', 0), []);
    await settle(30);
    expect(sent.map(outcome)).toEqual([
      2, 2, 'RangeError: no such thing', 'TypeError: not today',
      11, 'RangeError: no such thing', 14, 'TypeError: not today',
    ]);
    expect(sent.every((m) => m.type === 'task-done' && typeof m.runMs === 'number')).toBe(true);
  });

  it('lets the results of quick tasks wait, and sends them before a task not known to be quick', async () => {
    const { executor, sent, flushes } = setUp();
    // First calls of each: not known, so the executor flushes before each.
    executor.execute(task('double', 1), []);
    executor.execute(task('slow', 1), []);
    await settle(20);
    flushes.length = 0;
    // double is quick now, slow is not: the doubles' results wait, and leave before slow starts.
    for (let i = 0; i < 3; i++) executor.execute(task('double', i), []);
    executor.execute(task('slow', 9), []);
    executor.execute(task('double', 5), []);
    await settle(20);
    expect(flushes).toEqual([2 + 3]);
    expect(sent.slice(2).map(outcome)).toEqual([0, 2, 4, 9, 10]);
  });

  it('takes a function that was slow once for not quick until its average is back under 1 ms', async () => {
    const { executor, sent, flushes } = setUp();
    executor.execute(task('sometimes', 1), []);
    executor.execute(task('sometimes', 2), []);
    await settle(5);
    expect(flushes).toEqual([0]);
    executor.execute(task('sometimes', 'slow'), []);
    for (let i = 3; i <= 12; i++) executor.execute(task('sometimes', i), []);
    await settle(30);
    // Quick until the slow call (no flush before it); its 10 ms weigh 2 ms in the average, which
    // falls under 1 ms after a few quick calls (four, at ~0 ms each): a flush before each of
    // those, none after.
    const after = flushes.slice(1);
    expect(after[0]).toBe(3);
    expect(after).toEqual(after.map((_, i) => 3 + i));
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after.length).toBeLessThanOrEqual(6);
    expect(sent.map(outcome)).toEqual([1, 2, 'slow', 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('keeps a quick function quick through a call of a few milliseconds', async () => {
    const { executor, sent, flushes } = setUp();
    executor.execute(task('sometimes', 1), []);
    executor.execute(task('sometimes', 2), []);
    await settle(5);
    executor.execute(task('sometimes', 'hiccup'), []);
    executor.execute(task('sometimes', 3), []);
    executor.execute(task('sometimes', 4), []);
    await settle(20);
    // 3 ms weigh 0.6 ms: still quick, so nothing is flushed before the calls after it.
    expect(flushes).toEqual([0]);
    expect(sent.map(outcome)).toEqual([1, 2, 'hiccup', 3, 4]);
  });
});
