/**
 * Overlapping calls (maxConcurrency) on a real cluster started through the CLI: calls the
 * driver's node (the head's, resource `a`) spills to another node (resource `b`) keep their
 * maxConcurrency, which travels in the TaskSpec, and overlap there in one worker. A local server
 * answering after 100 ms counts the requests in flight per node and worker.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get, getRuntimeContext, init, shutdown } from '@weft/core';
import { LatencyServer } from '../../../core/test/support/latency-server.ts';
import { download, downloadOneAtATime } from '../fixtures/overlapping-downloads.ts';
import { CliCluster, pinnedTo, type CliNode } from '../support/cli-cluster.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const cluster = new CliCluster();
let server: LatencyServer;
let nodeB: CliNode | undefined;
// pinnedTo('b') pins calls to the second node; calls in a group share the resource.
const urls = (n: number): string[] => Array.from({ length: n }, (_, i) => server.url(`/page/${i}`));
const pages = (n: number): string[] => Array.from({ length: n }, (_, i) => `page ${i}`);

/** The asker (`<node>/<worker>`) with the most requests in flight at once, and how many. */
function busiest(): [string, number] {
  let best: [string, number] = ['', 0];
  for (const entry of server.maxInFlightBy()) if (entry[1] > best[1]) best = entry;
  return best;
}

beforeAll(async () => {
  server = await LatencyServer.start(100);
  nodeB = await cluster.startPair();
  await init({ address: cluster.url, token: cluster.token, workingDir: FIXTURES });
}, 120_000);

afterAll(async () => {
  await shutdown();
  expect(await cluster.stop()).toEqual([]);
  await server.close();
}, 60_000);

beforeEach(() => server.reset());

describe('calls of an async function with maxConcurrency on a cluster', () => {
  it('overlap by dozens in one worker of the node they were spilled to, with every result in order', async () => {
    const bodies = await get(urls(100).map((url) => download.options(pinnedTo('b')).remote(url)));
    expect(bodies).toEqual(pages(100));
    const [asker, most] = busiest();
    expect(asker.startsWith(`${nodeB?.nodeId ?? 'node b'}/`)).toBe(true);
    expect(most).toBeGreaterThanOrEqual(32);
    expect(most).toBeLessThanOrEqual(64);
  });

  it('overlap on the driver\'s own node too, while the default maxConcurrency never does', async () => {
    const bodies = await get(urls(100).map((url) => download.options(pinnedTo('a')).remote(url)));
    expect(bodies).toEqual(pages(100));
    const [asker, most] = busiest();
    expect(asker.startsWith(`${getRuntimeContext().nodeId}/`)).toBe(true);
    expect(most).toBeGreaterThanOrEqual(32);

    server.reset();
    expect(await get(urls(8).map((url) => downloadOneAtATime.options(pinnedTo('b')).remote(url)))).toEqual(pages(8));
    expect(busiest()[1]).toBe(1);
  });
});
