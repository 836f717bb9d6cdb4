/**
 * Parallel downloads with weft: many async tasks that overlap in one worker.
 *
 * A download spends its time waiting for the network, not computing, so one task per CPU
 * leaves the CPUs idle. `remote({ maxConcurrency: 64 }, async function …)` lets up to 64 calls
 * of the function run at once in one worker, interleaved at their awaits, on the CPU of the
 * first (like threads or asyncio for downloads, Ray's async actors, piscina's
 * concurrentTasksPerWorker).
 *
 * The example starts its own local HTTP server whose every page answers after LATENCY_MS (no
 * internet needed), downloads PAGES pages with weft, checks every one, and compares the time with
 * downloading them one at a time and with Promise.all of the same fetches in this process.
 *
 * Shows: maxConcurrency, async remote functions, I/O fan-out.
 *
 * Run:   npx pnpm@12.4.2 exec tsx examples/parallel-downloads.ts [pages] [latencyMs]
 *        (defaults: 1,000 pages of 100 ms; a few seconds)
 *
 * Layout rule for weft programs: workers import this very file to find `download`, and stop
 * evaluating it at `init()`. So the remote function is above `init()`, and the server and
 * everything else the driver does is below it.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { get, init, remote, shutdown } from "@weft/core";

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

/** Fetches one page and returns what a crawler would keep: its title and size. */
export const download = remote({ maxConcurrency: 64 }, async function download(url: string) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  const html = await response.text();
  return { url, title: /<title>(.*)<\/title>/.exec(html)?.[1] ?? "", bytes: html.length };
});

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past this line).
// ---------------------------------------------------------------------------------------------

await init(); // an embedded cluster with one worker per CPU

const PAGES = Number(process.argv[2] ?? 1_000);
const LATENCY_MS = Number(process.argv[3] ?? 100);
/** Pages fetched one at a time to time that way (all of them would take PAGES × LATENCY_MS). */
const SEQUENTIAL_SAMPLE = 20;

const page = (i: number): string => `<html><head><title>Page ${i}</title></head><body>${"lorem ipsum ".repeat(50 + (i % 50))}</body></html>`;

// A stand-in for a slow web site: every page answers after LATENCY_MS.
const server = http.createServer((request, response) => {
  const i = Number(request.url?.slice("/page/".length));
  setTimeout(() => response.end(page(i)), LATENCY_MS);
});
await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const urls = Array.from({ length: PAGES }, (_, i) => `${base}/page/${i}`);

/** Every page came back whole and in order. */
function check(results: Array<{ url: string; title: string; bytes: number }>): void {
  results.forEach((result, i) => {
    if (result.url !== urls[i] || result.title !== `Page ${i}` || result.bytes !== page(i).length) {
      throw new Error(`page ${i} came back wrong: ${JSON.stringify(result)}`);
    }
  });
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

try {
  // Warm up: every worker loads this module and opens its connections before the clock starts.
  check(await get(urls.slice(0, 200).map((url) => download.remote(url))));

  // map cuts the list into chunks; a chunk's downloads overlap in its worker like separate calls.
  let t0 = performance.now();
  const results = await download.map(urls, { progress: true });
  const weft = seconds(t0);
  check(results);

  t0 = performance.now();
  for (const url of urls.slice(0, SEQUENTIAL_SAMPLE)) await download.fn(url);
  const oneAtATime = (seconds(t0) / SEQUENTIAL_SAMPLE) * PAGES;

  t0 = performance.now();
  check(await Promise.all(urls.map((url) => download.fn(url))));
  const promiseAll = seconds(t0);

  const total = results.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`Downloaded ${PAGES} pages (${(total / 1e6).toFixed(1)} MB, each answering after ${LATENCY_MS} ms); every page checked.`);
  console.log(`  weft, maxConcurrency 64:            ${weft.toFixed(2)} s`);
  console.log(`  one at a time (timed on ${SEQUENTIAL_SAMPLE} pages): ${oneAtATime.toFixed(1)} s  (${(oneAtATime / weft).toFixed(0)}× slower)`);
  console.log(`  Promise.all in this process:        ${promiseAll.toFixed(2)} s  (weft takes ${(weft / promiseAll).toFixed(2)}× as long)`);
} finally {
  await shutdown();
  server.closeAllConnections();
  server.close();
}
