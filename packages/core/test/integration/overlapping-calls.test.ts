/**
 * Overlapping calls on the embedded cluster: remote({ maxConcurrency: N }, async function …) runs
 * up to N calls at once in one worker, on the CPU of the first. The calls fetch pages from a local
 * server that answers after 100 ms and counts, per worker, the requests in flight: overlap is
 * judged by those counts, never by the clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TaskCancelledError, TaskError, WorkerCrashedError, cancel, get, init, shutdown } from '@weft/core';
import { add } from '../fixtures/basic-tasks.ts';
import { attemptsIn } from '../fixtures/attempts.ts';
import { fetchOrCrash } from '../fixtures/crash-overlapping.ts';
import { download, downloadOneAtATime, spinSync } from '../fixtures/overlapping-downloads.ts';
import { LatencyServer } from '../support/latency-server.ts';
import { rejectionOf, timedRejectionOf } from '../support/outcome.ts';

let server: LatencyServer;
let tmp: string;

const pages = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `page ${from + i}`);
const urls = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => server.url(`/page/${from + i}`));
const mostInOneWorker = (): number => Math.max(0, ...server.maxInFlightBy().values());
/** Wait until the server holds `n` /hang/ requests (polls; never a fixed sleep). */
const hanging = (n: number) => vi.waitFor(() => expect(server.hanging).toBe(n), { timeout: 20_000, interval: 5 });

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'weft-overlap-'));
  server = await LatencyServer.start(100);
  await init({ numCpus: 2 });
});
afterAll(async () => {
  await shutdown();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});
beforeEach(() => server.reset());

describe('calls of an async function with maxConcurrency', () => {
  it('run dozens at once in one worker (never more than maxConcurrency), with every result in order', async () => {
    const bodies = await get(urls(150).map((url) => download.remote(url)));
    expect(bodies).toEqual(pages(150));
    expect(mostInOneWorker()).toBeGreaterThanOrEqual(32);
    expect(mostInOneWorker()).toBeLessThanOrEqual(64);
  });

  it('overlap as the items of a map\'s chunks too, within maxConcurrency across the chunks of a worker', async () => {
    expect(await download.map(urls(300), { chunkSize: 50 })).toEqual(pages(300));
    expect(mostInOneWorker()).toBeGreaterThanOrEqual(32);
    expect(mostInOneWorker()).toBeLessThanOrEqual(64);
    server.reset();
    expect(await download.map(urls(300))).toEqual(pages(300));
    expect(mostInOneWorker()).toBeGreaterThanOrEqual(32);
    expect(mostInOneWorker()).toBeLessThanOrEqual(64);
  });

  it('fail a map of overlapping items with the first failed item of the chunk, by index', async () => {
    const paths = Array.from({ length: 100 }, (_, i) => (i === 61 || i === 77 ? `/fail/${i}` : `/page/${i}`));
    const error = await rejectionOf(download.map(paths.map((p) => server.url(p)), { chunkSize: 100 }));
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toMatch(/item 61: .*HTTP 500/);
  });

  it('never overlap in a worker with the default maxConcurrency of 1', async () => {
    const bodies = await get(urls(12).map((url) => downloadOneAtATime.remote(url)));
    expect(bodies).toEqual(pages(12));
    expect(mostInOneWorker()).toBe(1);
  });

  it('reject only the ref of the call that failed', async () => {
    const paths = Array.from({ length: 40 }, (_, i) => (i === 7 || i === 20 ? `/fail/${i}` : `/page/${i}`));
    const refs = paths.map((p) => download.remote(server.url(p)));
    const outcomes = await Promise.all(refs.map((ref) => get(ref).then((value) => value, (error: unknown) => error)));
    for (const [i, outcome] of outcomes.entries()) {
      if (i === 7 || i === 20) {
        expect(outcome).toBeInstanceOf(TaskError);
        expect((outcome as TaskError).message).toContain('HTTP 500');
      } else {
        expect(outcome).toBe(`page ${i}`);
      }
    }
    expect(mostInOneWorker()).toBeGreaterThan(1);
  });

  it('leave the calls beside a cancelled one running to their end, in the same worker', async () => {
    const refs = Array.from({ length: 20 }, (_, i) => download.remote(server.url(`/hang/${i}`)));
    await hanging(20);
    expect(server.maxInFlightBy().size).toBe(1);
    const victim = refs[5]!;
    await cancel(victim);
    const { error, ms } = await timedRejectionOf(get(victim));
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(ms).toBeLessThan(2000);
    // The worker was not ended: the others still wait on their requests, none was sent again.
    expect(server.hanging).toBe(20);
    server.release();
    expect(await get(refs.filter((ref) => ref !== victim))).toEqual(Array.from({ length: 19 }, () => 'released'));
    expect(server.requests).toBe(20);
    // And the worker takes calls again once the cancelled call has returned.
    expect(await get(urls(70).map((url) => download.remote(url)))).toEqual(pages(70));
  });

  it('are all retried, each within its maxRetries, when their worker crashes under them', async () => {
    const crashFile = path.join(tmp, 'crash-attempts');
    const refs = [fetchOrCrash.remote(server.url('/hang/crash'), crashFile),
      ...Array.from({ length: 9 }, (_, i) => fetchOrCrash.remote(server.url(`/hang/${i}`)))];
    await hanging(10);
    // The crashing call's response comes first: its worker dies with the nine others in flight.
    server.release('/hang/crash');
    // All ten run again (the crashing one too, on its second attempt) and ask again.
    await vi.waitFor(() => expect(server.requests).toBe(20), { timeout: 20_000, interval: 5 });
    await hanging(10);
    expect(attemptsIn(crashFile)).toBe(2);
    server.release();
    expect(await get(refs)).toEqual(Array.from({ length: 10 }, () => 'released'));
    expect(server.requests).toBe(20);

    // With no retry left, every call of the group fails with the crash.
    const noRetry = fetchOrCrash.options({ maxRetries: 0 });
    const crashAgain = path.join(tmp, 'crash-attempts-2');
    const doomed = [noRetry.remote(server.url('/hang/crash2'), crashAgain), noRetry.remote(server.url('/hang/x'))];
    await hanging(2);
    server.release('/hang/crash2');
    for (const ref of doomed) expect(await rejectionOf(get(ref))).toBeInstanceOf(WorkerCrashedError);
  });

  it('of a sync function still run correctly, one after another', async () => {
    const results = await get(Array.from({ length: 16 }, (_, i) => spinSync.remote(i, 20)));
    expect(results).toEqual(Array.from({ length: 16 }, (_, i) => ({ i, seen: 1 })));
  });

  it('let a task queued behind them run before the calls queued after it', async () => {
    const before = urls(200).map((url) => download.remote(url));
    const task = add.remote(20, 22);
    const after = urls(200, 200).map((url) => download.remote(url));
    let afterDone = false;
    const allAfter = get(after).then((bodies) => {
      afterDone = true;
      return bodies;
    });
    expect(await get(task)).toBe(42);
    expect(afterDone).toBe(false);
    expect(await get(before)).toEqual(pages(200));
    expect(await allAfter).toEqual(pages(200, 200));
  });
});
