/**
 * Hostile input against a real cluster in this process (issue 9): a path in a job id, and a
 * fuzz of random and mutated frames at the head's port (as a node) and the nodes' ports (as a
 * driver and as a peer), while a well-behaved driver keeps running tasks.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_ENV } from '../support/fuzz-limits.ts';

Object.assign(process.env, FUZZ_ENV);
const { startFuzzCluster, openCanaries, fuzzFrames, RawClient } = await import('../support/fuzz-cluster.ts');
const { encodeFrame } = await import('@weft/protocol');
const { get, init, put, shutdown } = await import('@weft/core');
const { packDirectory } = await import('@weft/protocol');
const { whereAmI, sumArray } = await import('../fixtures/cluster-tasks.ts');

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
/** Frames the fuzz sends in the test suite (the bench sends 100,000). */
const FRAMES = 2_000;
/** Heap growth allowed over the fuzz, after a full GC: what the cluster may keep of 2,000 hostile frames. */
const HEAP_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;
const SEED = Number(process.env.WEFT_FUZZ_SEED ?? 20_260_901);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => {
  uncaught.push(error);
};
let cluster: Awaited<ReturnType<typeof startFuzzCluster>>;
const good = { resources: { good: 1 } };

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  cluster = await startFuzzCluster();
  await init({ address: cluster.node.address, token: cluster.token, workingDir: FIXTURES });
});
afterAll(async () => {
  await shutdown();
  await cluster?.stop();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

describe('a cluster given hostile input', () => {
  it('refuses register-job with a jobId that climbs out of the session folder, closing that connection, writing nothing', async () => {
    const outside = path.resolve(cluster.root, 'node', 'jobs', '../../../../x');
    const before = readdirSync(path.dirname(outside));
    const client = await RawClient.open({ name: 'node as driver', url: cluster.node.address, role: 'driver' }, cluster.token, 'driver-traversal');
    const pkg = (await packDirectory(FIXTURES)).data;
    client.send(encodeFrame([{ type: 'register-job', requestId: 1, jobId: '../../../../x', package: pkg }]));
    expect(await client.waitClosed()).toBe(true);
    expect(client.closed).toEqual({ code: 4000, reason: expect.stringContaining('register-job.jobId must be an id') as unknown });
    expect(existsSync(outside)).toBe(false);
    expect(readdirSync(path.dirname(outside))).toEqual(before);
    expect(await get(whereAmI.options(good).remote())).toBe(cluster.node.node.nodeId);
  });

  it(`survives ${FRAMES} random and mutated frames: each bad one closes only its connection, a good driver keeps working, memory stays bounded`, async () => {
    // Warm up (module loading, JIT, pools) before the baseline.
    await fuzzFrames(cluster, { frames: 200, seed: SEED - 1, concurrency: 4 });
    gc();
    const before = process.memoryUsage();
    const canaries = await openCanaries(cluster);
    let goodRuns = 0;
    const goodErrors: unknown[] = [];
    let fuzzing = true;
    const goodDriver = (async () => {
      while (fuzzing) {
        try {
          const data = new Float64Array(1000).fill(2);
          const [where, sum] = await get([whereAmI.options(good).remote(), sumArray.options(good).remote(put(data))]);
          if (where !== cluster.node.node.nodeId || sum.total !== 2000) throw new Error(`wrong answer ${String(where)} ${JSON.stringify(sum)}`);
          goodRuns += 1;
        } catch (error) {
          goodErrors.push(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const stats = await fuzzFrames(cluster, { frames: FRAMES, seed: SEED, concurrency: 4 });
    fuzzing = false;
    await goodDriver;
    expect(stats.violations, `seed ${SEED}`).toEqual([]);
    expect(await canaries()).toEqual([]);
    expect(uncaught).toEqual([]);
    expect(goodErrors).toEqual([]);
    expect(goodRuns).toBeGreaterThan(0);
    expect(stats.frames).toBeGreaterThanOrEqual(FRAMES);
    expect(stats.closes).toBeGreaterThan(stats.sessions / 4);
    // After the fuzz, too: a task and its result.
    expect(await get(whereAmI.options(good).remote())).toBe(cluster.node.node.nodeId);
    gc();
    const after = process.memoryUsage();
    console.log(`fuzz: ${stats.frames} frames in ${stats.sessions} sessions, ${stats.closes} closed by the server, good driver ran ${goodRuns} rounds;`
      + ` heap ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MiB, rss ${mb(before.rss)} -> ${mb(after.rss)} MiB`);
    expect(after.heapUsed - before.heapUsed).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
  });
});

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
