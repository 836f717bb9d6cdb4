/**
 * Monte Carlo estimate of π with weft.
 *
 * Throws random points into the unit square and counts how many land inside the quarter
 * circle: that fraction tends to π/4. The work is split into TASKS independent tasks of
 * SAMPLES_PER_TASK points, each with its own seed, fanned out with `.remote()` and collected
 * with a single `get`.
 *
 * Shows: defining a remote function, fanning out many tasks, gathering the results.
 *
 * Run:   pnpm tsx examples/monte-carlo-pi.ts [tasks] [samplesPerTask]
 *        (defaults: 64 tasks of 5,000,000 samples; a few seconds on 2 cores)
 *
 * Layout rule for weft programs: workers import this very file to find `countInside`, and
 * stop evaluating it at `init()`. So everything a task needs (the remote function and its
 * helpers) is defined above `init()`, and the driver code is below it.
 */
import os from "node:os";
import { init, shutdown, remote, get } from "@weft/core";
import { makeRng } from './random.ts';

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

/** Counts how many of `samples` uniform points in [0,1)² fall inside the unit circle. */
export const countInside = remote(function countInside(seed: number, samples: number): number {
  const random = makeRng(seed);
  let inside = 0;
  for (let i = 0; i < samples; i++) {
    const x = random();
    const y = random();
    if (x * x + y * y < 1) inside++;
  }
  return inside;
});

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past this line).
// ---------------------------------------------------------------------------------------------

await init(); // an embedded cluster with one worker per CPU

try {
  const tasks = Number(process.argv[2] ?? 64);
  const samplesPerTask = Number(process.argv[3] ?? 5_000_000);
  const totalSamples = tasks * samplesPerTask;

  const start = performance.now();
  // Fan out: each call returns an ObjectRef at once; the tasks run in parallel on the workers.
  const refs = Array.from({ length: tasks }, (_, i) => countInside.remote(i, samplesPerTask));
  const counts = await get(refs); // one get for all of them, in submission order
  const seconds = (performance.now() - start) / 1000;

  const inside = counts.reduce((sum, n) => sum + n, 0);
  const p = inside / totalSamples;
  const estimate = 4 * p;
  const standardError = 4 * Math.sqrt((p * (1 - p)) / totalSamples);

  console.log("Monte Carlo estimate of π");
  console.log(`  workers        ${os.availableParallelism()}`);
  console.log(`  tasks          ${tasks} × ${samplesPerTask.toLocaleString("en-US")} samples`);
  console.log(`  samples        ${totalSamples.toLocaleString("en-US")}`);
  console.log(`  estimate       ${estimate.toFixed(7)}  (± ${(1.96 * standardError).toFixed(7)} at 95%)`);
  console.log(`  Math.PI        ${Math.PI.toFixed(7)}`);
  console.log(`  error          ${Math.abs(estimate - Math.PI).toExponential(2)}` +
    `  (${(Math.abs(estimate - Math.PI) / standardError).toFixed(2)} standard errors)`);
  console.log(`  wall time      ${seconds.toFixed(2)} s` +
    `  (${(totalSamples / seconds / 1e6).toFixed(0)} M samples/s)`);
} finally {
  await shutdown();
}
