/**
 * A backtest grid with a result cache: the first run computes every cell, the second is instant.
 *
 * A moving-average crossover strategy (long an asset while its fast average is above its slow
 * one, else cash; 10 bp per trade) is scored on 5 years of synthetic daily prices of 8 assets for
 * 240 pairs of windows. Each cell also bootstraps its Sharpe ratio (500 resamples of its daily
 * returns) to say how much of it could be luck. The cells are a `starmap` (with a progress bar)
 * of a function cached with `Memory`: each result is saved in `.weft-cache/` (in the current
 * directory) when it is computed, and a later call with the same arguments (the same prices, the
 * same windows) gets it back at once, without a task. Change the grid and only the new cells run; change the cached
 * function's code and its entries are new.
 *
 * Shows: `new Memory(folder)`, `memory.cache(remote(...))`, `starmap` with `progress`,
 * `memory.stats`, `memory.clear()`.
 *
 * Run:   npx pnpm@12.4.2 exec tsx examples/backtest-cache.ts           (twice: the second run is instant)
 *        npx pnpm@12.4.2 exec tsx examples/backtest-cache.ts --clear   (forget the cache first)
 *
 * What the cache keys on: the cached function's module, name and source text, and the values of
 * its arguments (a Float64Array by its bytes). Not the helpers it calls: after changing one of
 * them, run with --clear. The prices go to each call as a value, not as a ref from `put`: a
 * cached call keys on its arguments' values, which a ref does not carry (cached functions refuse
 * refs). As in every weft program, workers import this file and stop at `init()`, so the remote
 * function and what it uses are defined above it.
 */
import os from "node:os";
import { Memory, init, remote, shutdown } from "@weft/core";
import { makeNormal, makeRng } from "./random.ts";

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

const TRADING_DAYS_PER_YEAR = 252;
/** Cost of changing a position, as a fraction of the capital traded (10 bp). */
const COST_PER_TRADE = 0.001;
/** Bootstrap resamples of each cell's daily returns. */
const RESAMPLES = 500;

/** The score of one pair of windows. */
export interface Cell {
  fast: number;
  slow: number;
  /** annualized, risk-free rate 0 */
  sharpe: number;
  /** 5th and 95th percentiles of the bootstrapped Sharpe ratio */
  sharpeLow: number;
  sharpeHigh: number;
  /** growth over the test period: 0.25 = +25% */
  totalReturn: number;
  trades: number;
}

function sharpeOf(returns: Float64Array): number {
  let sum = 0, sumOfSquares = 0;
  for (const r of returns) { sum += r; sumOfSquares += r * r; }
  const n = returns.length, mean = sum / n;
  const sd = Math.sqrt(Math.max(0, (sumOfSquares - n * mean * mean) / (n - 1)));
  return sd > 0 ? (mean / sd) * Math.sqrt(TRADING_DAYS_PER_YEAR) : 0;
}

/** Daily portfolio returns of the crossover (fast, slow) from day `start`, and its trades. */
function strategyReturns(prices: Float64Array, assets: number, fast: number, slow: number, start: number): { returns: Float64Array; trades: number } {
  const days = prices.length / assets;
  const prefix = new Float64Array(days + 1); // one asset's prefix sums at a time
  const returns = new Float64Array(days - 1 - start);
  let trades = 0;
  for (let a = 0; a < assets; a++) {
    const p = a * days;
    for (let t = 0; t < days; t++) prefix[t + 1] = prefix[t]! + prices[p + t]!;
    let position = 0;
    for (let t = start; t < days - 1; t++) {
      const target = (prefix[t + 1]! - prefix[t + 1 - fast]!) / fast > (prefix[t + 1]! - prefix[t + 1 - slow]!) / slow ? 1 : 0;
      let r = 0;
      if (target !== position) { r -= COST_PER_TRADE; position = target; trades++; }
      if (target === 1) r += prices[p + t + 1]! / prices[p + t]! - 1;
      returns[t - start]! += r / assets;
    }
  }
  return { returns, trades };
}

/** One cell of the grid: the pair's score and a bootstrap of its Sharpe ratio (seeded by the pair). */
export const scoreCell = remote(function scoreCell(prices: Float64Array, assets: number, fast: number, slow: number, start: number): Cell {
  const { returns, trades } = strategyReturns(prices, assets, fast, slow, start);
  let equity = 1;
  for (const r of returns) equity *= 1 + r;
  const uniform = makeRng(fast * 1_000 + slow);
  const resample = new Float64Array(returns.length);
  const sharpes = new Float64Array(RESAMPLES);
  for (let b = 0; b < RESAMPLES; b++) {
    for (let i = 0; i < resample.length; i++) resample[i] = returns[Math.floor(uniform() * returns.length)]!;
    sharpes[b] = sharpeOf(resample);
  }
  sharpes.sort();
  return {
    fast, slow, sharpe: sharpeOf(returns), sharpeLow: sharpes[Math.floor(0.05 * RESAMPLES)]!, sharpeHigh: sharpes[Math.floor(0.95 * RESAMPLES)]!,
    totalReturn: equity - 1, trades,
  };
});

/** The cache: a folder in the current directory (the driver's machine, in cluster mode too). */
const memory = new Memory(".weft-cache");
const cachedScoreCell = memory.cache(scoreCell);

// ---------------------------------------------------------------------------------------------
// Synthetic data (used by the driver only).
// ---------------------------------------------------------------------------------------------

/** Daily closes of `assets` correlated GBMs over `days` days, starting at 100, asset-major. */
function generatePrices(assets: number, days: number, seed: number, correlation = 0.4): Float64Array {
  const uniform = makeRng(seed);
  const normal = makeNormal(uniform);
  const dt = 1 / TRADING_DAYS_PER_YEAR;
  const drift = Array.from({ length: assets }, () => 0.03 + 0.09 * uniform());
  const vol = Array.from({ length: assets }, () => 0.15 + 0.25 * uniform());
  const prices = new Float64Array(assets * days);
  for (let a = 0; a < assets; a++) prices[a * days] = 100;
  for (let t = 1; t < days; t++) {
    const market = normal();
    for (let a = 0; a < assets; a++) {
      const z = Math.sqrt(correlation) * market + Math.sqrt(1 - correlation) * normal();
      const sigma = vol[a]!;
      prices[a * days + t] = prices[a * days + t - 1]! * Math.exp((drift[a]! - 0.5 * sigma * sigma) * dt + sigma * Math.sqrt(dt) * z);
    }
  }
  return prices;
}

const range = (lo: number, hi: number, step: number): number[] => Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

await init();

try {
  if (process.argv.includes("--clear")) {
    memory.clear();
    console.log(`cleared    ${memory.location}`);
  }
  const ASSETS = 8;
  const DAYS = 5 * TRADING_DAYS_PER_YEAR + 1;
  const fastWindows = range(5, 60, 5);
  const slowWindows = range(70, 260, 10);
  const start = Math.max(...slowWindows) - 1; // every pair is scored on the same days
  const prices = generatePrices(ASSETS, DAYS, 7);
  const pairs = fastWindows.flatMap((fast) => slowWindows.map((slow) => [fast, slow] as const));
  console.log(`grid       ${fastWindows.length} fast × ${slowWindows.length} slow windows = ${pairs.length} cells, ${ASSETS} assets × ${DAYS} days, ${RESAMPLES.toLocaleString("en-US")} bootstrap resamples each`);
  console.log(`workers    ${os.availableParallelism()}`);

  const t0 = performance.now();
  // A map over a cached function looks every cell up first: only those not found become tasks.
  const cells = await cachedScoreCell.starmap(pairs.map(([fast, slow]) => [prices, ASSETS, fast, slow, start]), { progress: true });
  const seconds = (performance.now() - t0) / 1000;
  const { hits, misses } = memory.stats;
  await memory.flush(); // the results that ran are written before the program ends
  console.log(`cache      ${hits}/${pairs.length} hits, ${seconds.toFixed(2)} s${misses > 0 ? ` (${misses} computed, saved in ${memory.location} for the next run)` : ""}\n`);

  cells.sort((x, y) => y.sharpe - x.sharpe);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
  const row = (cols: (string | number)[]) => cols.map((c, i) => String(c).padStart([5, 6, 6, 8, 16, 14, 8][i] ?? 8)).join("");
  console.log(row(["rank", "fast", "slow", "Sharpe", "90% bootstrap", "total return", "trades"]));
  cells.slice(0, 5).forEach((c, i) =>
    console.log(row([i + 1, c.fast, c.slow, c.sharpe.toFixed(2), `${c.sharpeLow.toFixed(2)}..${c.sharpeHigh.toFixed(2)}`, pct(c.totalReturn), c.trades])));

  // The check: the best cell recomputed here, in this thread, without weft or its cache.
  const best = cells[0]!;
  const here = scoreCell.fn(prices, ASSETS, best.fast, best.slow, start);
  if (JSON.stringify(here) !== JSON.stringify(best)) throw new Error(`the best cell differs when recomputed here: ${JSON.stringify(here)} vs ${JSON.stringify(best)}`);
  if (cells.length !== pairs.length) throw new Error(`expected ${pairs.length} cells, got ${cells.length}`);
  console.log(`\ncheck      the best cell recomputed in the driver: identical`);
  const lucky = cells.filter((c) => c.sharpeLow <= 0).length;
  console.log(`note       ${lucky} of ${cells.length} cells have a 90% bootstrap interval that reaches 0 or below: prices are a random walk here`);
} finally {
  await shutdown();
}
