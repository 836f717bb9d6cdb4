/**
 * W9 (BENCHMARKS.md): 1,000 async tasks (maxConcurrency 1,000) that each fetch a local URL
 * answering after 100 ms, in seconds (`W9.s`), beside `floor.W9_promise_all_s`: Promise.all of
 * the same fetches in this one process, measured in the same run against the same server. The
 * server is a process of its own (bench/latency-server.mjs). Every side does WARM_ROUNDS full
 * rounds first, off the clock, so that each starts with its connections open and its code
 * compiled (weft's rounds here: 2.0, 1.1, 0.9, 0.66, 0.63, 0.52 s; Promise.all's settle sooner).
 *
 * Also `floor.W9_lanes_s`, shown and not judged: the same fetches from two plain worker_threads
 * (one per CPU) with W9_MAX_CONCURRENCY in flight in each, no weft: what the work costs spread
 * over worker threads without a scheduler. W9.s against it is weft's own cost.
 */
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { get } from "@weft/core";
import { Child } from "./child-process.ts";
import { W9_LATENCY_MS, W9_MAX_CONCURRENCY, W9_TASKS, type RunContext } from "./config.ts";
import { fetchPage } from "./download-tasks.ts";
import { now, secondsSince } from "./stats.ts";

const SERVER = fileURLToPath(new URL("./latency-server.mjs", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** CPUs of the embedded cluster W9 runs on, and so threads of the lanes floor. */
const THREADS = 2;
/** Full rounds every side does off the clock before the measured one. */
const WARM_ROUNDS = 3;

async function warm(round: () => Promise<number>): Promise<void> {
  for (let i = 0; i < WARM_ROUNDS; i++) await round();
}

/** A plain worker thread that fetches the URLs it is sent, `lanes` at a time, and posts the bodies back. */
const LANES_WORKER = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", async ({ urls, lanes }) => {
  const bodies = new Array(urls.length);
  let next = 0;
  const lane = async () => {
    while (next < urls.length) {
      const k = next++;
      bodies[k] = await (await fetch(urls[k])).text();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  parentPort.postMessage(bodies);
});`;

/** Every body is the page asked for, so a fast but wrong run cannot post a figure. */
function checkPages(what: string, bodies: string[]): void {
  for (let i = 0; i < W9_TASKS; i++) {
    if (bodies[i] !== `page ${i}`) throw new Error(`${what}: page ${i} came back as ${JSON.stringify(bodies[i])}`);
  }
}

async function promiseAllSeconds(urls: string[]): Promise<number> {
  const t0 = now();
  const bodies = await Promise.all(urls.map(async (url) => (await fetch(url)).text()));
  const s = secondsSince(t0);
  checkPages("W9 Promise.all", bodies);
  return s;
}

/** The URLs dealt round-robin to the threads, W9_MAX_CONCURRENCY in flight in each. */
async function lanesSeconds(threads: Worker[], urls: string[]): Promise<number> {
  const t0 = now();
  const parts = await Promise.all(threads.map((thread, k) => new Promise<string[]>((resolve, reject) => {
    thread.once("message", resolve);
    thread.once("error", reject);
    thread.postMessage({ urls: urls.filter((_, i) => i % threads.length === k), lanes: W9_MAX_CONCURRENCY });
  })));
  const s = secondsSince(t0);
  checkPages("W9 lanes", urls.map((_, i) => parts[i % threads.length]![Math.floor(i / threads.length)]!));
  return s;
}

async function weftSeconds(urls: string[]): Promise<number> {
  const t0 = now();
  const bodies = await get(urls.map((url) => fetchPage.remote(url)));
  const s = secondsSince(t0);
  checkPages("W9", bodies);
  return s;
}

export async function w9(ctx: RunContext): Promise<void> {
  const server = Child.spawn("w9-server", process.execPath, [SERVER, String(W9_LATENCY_MS)], { cwd: REPO_ROOT });
  const threads: Worker[] = [];
  try {
    const base = await server.line("W9_READY");
    const urls = Array.from({ length: W9_TASKS }, (_, i) => `${base}/${i}`);
    await warm(() => promiseAllSeconds(urls));
    ctx.log.add("floor.W9_promise_all_s", await promiseAllSeconds(urls));
    for (let k = 0; k < THREADS; k++) threads.push(new Worker(LANES_WORKER, { eval: true }));
    await warm(() => lanesSeconds(threads, urls));
    ctx.log.add("floor.W9_lanes_s", await lanesSeconds(threads, urls));
    await Promise.all(threads.splice(0).map((thread) => thread.terminate()));
    await warm(() => weftSeconds(urls));
    ctx.log.add("W9.s", await weftSeconds(urls));
  } finally {
    await Promise.all(threads.map((thread) => thread.terminate()));
    await server.stop();
  }
}
