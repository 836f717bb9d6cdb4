/**
 * Pricing a European call option by Monte Carlo simulation, in parallel with weft.
 *
 * Under Black–Scholes the stock ends the year at S_T = S0·exp((r − σ²/2)T + σ√T·Z) with Z a
 * standard normal, and the option is worth the discounted average payoff e^(−rT)·E[max(S_T − K, 0)].
 * We simulate BATCHES independent batches of PATHS_PER_BATCH paths with `imap` (a parallel map
 * whose values arrive in order, as soon as each is ready), each batch with its own seed; every
 * batch returns the sum and sum of squares of its payoffs, the driver prints the estimate as it
 * converges, and combines them into a price with a 95% confidence interval, printed beside the
 * closed-form Black–Scholes price. A progress bar runs on stderr.
 *
 * It then runs the very same batches (same function, same seeds) one after another in the
 * driver, to measure the speed-up, and checks that both runs give bit-identical results:
 * with a seed per batch, the answer does not depend on how the work was scheduled.
 *
 * Between the two, one streaming task (a remote `async function*`) simulates in steps and yields
 * each step's totals; the driver prints the estimate from each as it arrives.
 *
 * Shows: a CPU-bound parallel map with per-item seeds, a progress bar, results streamed in order,
 * a streaming generator task (ObjectRefGenerator), reproducible parallel simulation, and the
 * speed-up over one thread.
 *
 * Run:   pnpm tsx examples/monte-carlo-options.ts [batches] [pathsPerBatch]
 *        (defaults: 64 batches of 2,000,000 paths; about 3 s in parallel on 2 cores, then
 *        about 6 s for the one-thread comparison)
 *
 * Layout rule for weft programs: workers import this very file to find `priceBatch`, and stop
 * evaluating it at `init()`. So the remote function and everything it uses are defined above
 * `init()`, and the driver code is below it.
 */
import os from "node:os";
import { init, shutdown, remote, get } from "@weft/core";
import { makeNormal, makeRng } from './random.ts';

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

/** The contract and the market: a European call under Black–Scholes. */
export interface CallOption {
  /** spot price today */
  s0: number;
  /** strike */
  strike: number;
  /** continuously compounded risk-free rate, per year */
  rate: number;
  /** volatility, per √year */
  sigma: number;
  /** time to expiry, in years */
  years: number;
}

/** What one batch sends back: enough to combine means and variances across batches. */
export interface BatchResult {
  paths: number;
  /** Σ discounted payoff */
  sum: number;
  /** Σ (discounted payoff)² */
  sumOfSquares: number;
}

/** Simulates `paths` terminal prices and sums the discounted payoffs. Plain function: the
 *  remote task below and the one-thread comparison in the driver both call it. */
function simulateBatch(option: CallOption, seed: number, paths: number): BatchResult {
  const { s0, strike, rate, sigma, years } = option;
  const drift = (rate - 0.5 * sigma * sigma) * years;
  const vol = sigma * Math.sqrt(years);
  const discount = Math.exp(-rate * years);
  const normal = makeNormal(makeRng(seed));
  let sum = 0;
  let sumOfSquares = 0;
  for (let i = 0; i < paths; i++) {
    const terminal = s0 * Math.exp(drift + vol * normal());
    const payoff = terminal > strike ? discount * (terminal - strike) : 0;
    sum += payoff;
    sumOfSquares += payoff * payoff;
  }
  return { paths, sum, sumOfSquares };
}

/** One batch of paths: the item of the map. */
export interface Batch {
  option: CallOption;
  seed: number;
  paths: number;
}

/** One batch of paths, as a task (the map runs it once per batch). */
export const priceBatch = remote(function priceBatch({ option, seed, paths }: Batch): BatchResult {
  return simulateBatch(option, seed, paths);
});

/**
 * One long simulation as a streaming task (an `async function*`: `.remote()` returns an
 * ObjectRefGenerator): it yields each step's totals as soon as the step is done, so the driver
 * prints the estimate converging while the task is still running. Step k uses seed `seed + k`.
 */
export const convergingPrice = remote(async function* convergingPrice({ option, seed, paths }: Batch, steps: number) {
  for (let k = 0; k < steps; k++) yield simulateBatch(option, seed + k, paths);
});

// ---------------------------------------------------------------------------------------------
// The closed form, for comparison (used by the driver only).
// ---------------------------------------------------------------------------------------------

/**
 * erfc(x) to about 1e-15 absolute: the Taylor series of erf (all terms positive, so no
 * cancellation) for |x| < 3, and Laplace's continued fraction for the tail.
 */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    // erf(x) = 2/√π · e^(−x²) · Σ_n (2x²)^n · x / (1·3·5···(2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), bottom-up
  let f = x;
  for (let k = 60; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** Standard normal cumulative distribution function Φ. */
function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** The Black–Scholes closed-form price of a European call. */
function blackScholesCall({ s0, strike, rate, sigma, years }: CallOption): number {
  const sd = sigma * Math.sqrt(years);
  const d1 = (Math.log(s0 / strike) + (rate + 0.5 * sigma * sigma) * years) / sd;
  const d2 = d1 - sd;
  return s0 * normCdf(d1) - strike * Math.exp(-rate * years) * normCdf(d2);
}

/** Combines batch results into a price, its standard error and a 95% confidence interval. */
function summarize(results: readonly BatchResult[]) {
  let paths = 0, sum = 0, sumOfSquares = 0;
  for (const r of results) {
    paths += r.paths;
    sum += r.sum;
    sumOfSquares += r.sumOfSquares;
  }
  const price = sum / paths;
  const variance = (sumOfSquares - paths * price * price) / (paths - 1);
  const standardError = Math.sqrt(variance / paths);
  return { paths, price, standardError, low: price - 1.96 * standardError, high: price + 1.96 * standardError };
}

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

const workers = os.availableParallelism();
await init({ numCpus: workers }); // an embedded cluster: one worker per CPU

try {
  const option: CallOption = { s0: 100, strike: 105, rate: 0.05, sigma: 0.2, years: 1 };
  const batches = Number(process.argv[2] ?? 64);
  const pathsPerBatch = Number(process.argv[3] ?? 2_000_000);
  const BASE_SEED = 20240601; // batch i uses seed BASE_SEED + i
  const fmt = (n: number) => n.toLocaleString("en-US");

  console.log(`European call: S0=${option.s0} K=${option.strike} r=${option.rate} σ=${option.sigma} T=${option.years}`);
  console.log(`${batches} batches × ${fmt(pathsPerBatch)} paths = ${fmt(batches * pathsPerBatch)} paths on ${workers} workers\n`);

  // Warm-up: the first tasks wait for the workers to load this module and compile the
  // hot loop; keep that out of the measurement, but report it.
  let t0 = performance.now();
  await get(Array.from({ length: 2 * workers }, (_, i) => priceBatch.remote({ option, seed: -1 - i, paths: 10_000 })));
  const warmupSeconds = (performance.now() - t0) / 1000;

  // Parallel: a map over the batches (each ~0.2 s, so one per task), with a bar on stderr; the
  // values come in input order as soon as they are ready, and the estimate converges as they do.
  t0 = performance.now();
  const jobs = Array.from({ length: batches }, (_, i): Batch => ({ option, seed: BASE_SEED + i, paths: pathsPerBatch }));
  const parallelResults: BatchResult[] = [];
  const every = Math.max(1, Math.floor(batches / 4));
  for await (const result of priceBatch.imap(jobs, { progress: true })) {
    parallelResults.push(result);
    if (parallelResults.length % every === 0 || parallelResults.length === batches) {
      const sofar = summarize(parallelResults);
      console.log(`after ${String(parallelResults.length).padStart(4)} batches   ${sofar.price.toFixed(5)} ± ${(1.96 * sofar.standardError).toFixed(5)}`);
    }
  }
  const parallelSeconds = (performance.now() - t0) / 1000;
  console.log();

  // Streaming: one task, whose steps come back as it yields them (each ref readable at once).
  const STEPS = 6;
  const STEP_PATHS = 500_000;
  const STREAM_SEED = BASE_SEED + 1_000_000;
  console.log(`one streaming task, ${STEPS} steps of ${fmt(STEP_PATHS)} paths, each printed as it is yielded:`);
  const streamed: BatchResult[] = [];
  for await (const ref of convergingPrice.remote({ option, seed: STREAM_SEED, paths: STEP_PATHS }, STEPS)) {
    streamed.push(await get(ref));
    const sofar = summarize(streamed);
    console.log(`after ${fmt(sofar.paths).padStart(9)} paths   ${sofar.price.toFixed(5)} ± ${(1.96 * sofar.standardError).toFixed(5)}`);
  }
  const streamedInDriver = Array.from({ length: STEPS }, (_, k) => simulateBatch(option, STREAM_SEED + k, STEP_PATHS));
  const streamIdentical = streamed.length === STEPS && JSON.stringify(streamed) === JSON.stringify(streamedInDriver);
  console.log();

  // The same batches, one after another, in this thread.
  t0 = performance.now();
  const sequentialResults: BatchResult[] = [];
  for (let i = 0; i < batches; i++) sequentialResults.push(simulateBatch(option, BASE_SEED + i, pathsPerBatch));
  const sequentialSeconds = (performance.now() - t0) / 1000;

  const mc = summarize(parallelResults);
  const closedForm = blackScholesCall(option);
  const sameAsSequential = JSON.stringify(parallelResults) === JSON.stringify(sequentialResults);

  console.log(`Monte Carlo price     ${mc.price.toFixed(5)}   95% CI [${mc.low.toFixed(5)}, ${mc.high.toFixed(5)}]  (standard error ${mc.standardError.toFixed(5)})`);
  console.log(`Black–Scholes price   ${closedForm.toFixed(5)}`);
  console.log(`absolute error        ${Math.abs(mc.price - closedForm).toFixed(5)}` +
    `   (${(Math.abs(mc.price - closedForm) / mc.standardError).toFixed(2)} standard errors; ` +
    `closed form ${closedForm >= mc.low && closedForm <= mc.high ? "inside" : "OUTSIDE"} the 95% CI)\n`);
  console.log(`warm-up               ${warmupSeconds.toFixed(2)} s  (workers load this module)`);
  console.log(`parallel              ${parallelSeconds.toFixed(2)} s  (${fmt(Math.round(mc.paths / parallelSeconds / 1e6))} M paths/s, ${workers} workers)`);
  console.log(`one thread            ${sequentialSeconds.toFixed(2)} s  (same batches, same seeds, in the driver)`);
  console.log(`speed-up              ${(sequentialSeconds / parallelSeconds).toFixed(2)}×`);
  console.log(`results identical     ${sameAsSequential ? "yes" : "NO"} (parallel vs one thread, batch by batch)`);
  console.log(`streamed identical    ${streamIdentical ? "yes" : "NO"} (the streaming task's ${STEPS} steps vs the same steps in the driver)`);
  // A failed check fails the run (exit code 1), so scripts and tests see it.
  if (!sameAsSequential || !streamIdentical) process.exitCode = 1;
} finally {
  await shutdown();
}
