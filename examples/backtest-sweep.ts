/**
 * A parameter sweep: backtesting a moving-average crossover strategy over a grid of windows.
 *
 * The driver generates 5 years of synthetic daily prices for a few assets (correlated geometric
 * Brownian motion, seeded) and `put`s them into the object store once, as one Float64Array.
 * Every task receives the same ObjectRef, so the prices are stored once and shared by all
 * tasks instead of being copied into each task's arguments. One task per fast window
 * evaluates that fast window against every slow window of the grid; the driver ranks all
 * parameter pairs by Sharpe ratio and prints the top 5.
 *
 * Strategy, per asset: hold the asset (long) while its fast moving average of closing prices
 * is above its slow one, else hold cash (earning nothing). The signal at day t's close sets
 * the position for day t+1, so there is no look-ahead; each position change costs
 * COST_PER_TRADE of the capital traded. The portfolio splits its capital equally across assets.
 *
 * Shows: `put` for data shared by many tasks, passing an ObjectRef as a task argument (it
 * arrives as the Float64Array), chunking a grid into tasks.
 *
 * Run:   pnpm tsx examples/backtest-sweep.ts
 *
 * Layout rule for weft programs: workers import this very file to find `sweepFastWindow`, and
 * stop evaluating it at `init()`. So the remote function and everything it uses are defined
 * above `init()`, and the driver code is below it.
 */
import os from "node:os";
import { init, shutdown, remote, get, put } from "@weft/core";
import { makeNormal, makeRng } from './random.ts';

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

const TRADING_DAYS_PER_YEAR = 252;
/** Cost of changing a position, as a fraction of the capital traded (10 bp). */
const COST_PER_TRADE = 0.001;

/** The score of one parameter pair over the test period. */
export interface Score {
  fast: number;
  slow: number;
  /** annualized, risk-free rate 0 */
  sharpe: number;
  /** growth of the portfolio over the test period: 0.25 = +25% */
  totalReturn: number;
  /** worst fall from a previous peak: 0.2 = −20% */
  maxDrawdown: number;
  /** number of position changes, summed over assets */
  trades: number;
}

/** Annualized Sharpe ratio, total return and maximum drawdown of a series of daily returns. */
function scoreReturns(returns: Float64Array): Pick<Score, "sharpe" | "totalReturn" | "maxDrawdown"> {
  let sum = 0, sumOfSquares = 0, equity = 1, peak = 1, maxDrawdown = 0;
  for (const r of returns) {
    sum += r;
    sumOfSquares += r * r;
    equity *= 1 + r;
    peak = Math.max(peak, equity);
    maxDrawdown = Math.max(maxDrawdown, 1 - equity / peak);
  }
  const n = returns.length;
  const mean = sum / n;
  const sd = Math.sqrt(Math.max(0, (sumOfSquares - n * mean * mean) / (n - 1)));
  const sharpe = sd > 0 ? (mean / sd) * Math.sqrt(TRADING_DAYS_PER_YEAR) : 0;
  return { sharpe, totalReturn: equity - 1, maxDrawdown };
}

/**
 * Backtests one (fast, slow) pair on all assets from day `start` to the end.
 * `prefix` holds per-asset prefix sums of prices (asset a's sums start at a·(days+1)), so
 * the mean of any window costs O(1).
 */
function backtest(prices: Float64Array, prefix: Float64Array, assets: number, fast: number, slow: number, start: number): Score {
  const days = prices.length / assets;
  const returns = new Float64Array(days - 1 - start);
  const position = new Uint8Array(assets); // 0 = cash, 1 = long; everyone starts in cash
  let trades = 0;
  for (let t = start; t < days - 1; t++) {
    let portfolio = 0;
    for (let a = 0; a < assets; a++) {
      const p = a * days;
      const s = a * (days + 1) + t + 1; // prefix index just after day t
      const fastMean = (prefix[s]! - prefix[s - fast]!) / fast;
      const slowMean = (prefix[s]! - prefix[s - slow]!) / slow;
      const target = fastMean > slowMean ? 1 : 0;
      if (target !== position[a]) {
        portfolio -= COST_PER_TRADE;
        position[a] = target;
        trades++;
      }
      if (target === 1) portfolio += prices[p + t + 1]! / prices[p + t]! - 1;
    }
    returns[t - start] = portfolio / assets;
  }
  return { fast, slow, ...scoreReturns(returns), trades };
}

/**
 * One task: the fast window `fast` against every slow window in `slows`.
 * `prices` is passed as an ObjectRef by the driver; weft resolves it to the Float64Array
 * before the task runs (asset-major: asset a's closes are prices[a·days .. (a+1)·days)).
 */
export const sweepFastWindow = remote(function sweepFastWindow(
  prices: Float64Array, assets: number, fast: number, slows: number[], start: number,
): Score[] {
  const days = prices.length / assets;
  const prefix = new Float64Array(assets * (days + 1));
  for (let a = 0; a < assets; a++) {
    for (let t = 0; t < days; t++) prefix[a * (days + 1) + t + 1] = prefix[a * (days + 1) + t]! + prices[a * days + t]!;
  }
  return slows.filter((slow) => slow > fast).map((slow) => backtest(prices, prefix, assets, fast, slow, start));
});

// ---------------------------------------------------------------------------------------------
// Synthetic data (used by the driver only).
// ---------------------------------------------------------------------------------------------

/**
 * Daily closes of `assets` correlated GBMs over `days` days, starting at 100, asset-major.
 * Each asset gets its own drift (3–12%/yr) and volatility (15–40%/yr); daily shocks share a
 * market factor, so any two assets' log returns have correlation `correlation`.
 */
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
      const mu = drift[a]!, sigma = vol[a]!;
      const z = Math.sqrt(correlation) * market + Math.sqrt(1 - correlation) * normal();
      prices[a * days + t] = prices[a * days + t - 1]! * Math.exp((mu - 0.5 * sigma * sigma) * dt + sigma * Math.sqrt(dt) * z);
    }
  }
  return prices;
}

/** Daily returns of holding all assets in equal weights (rebalanced daily), from `start`. */
function buyAndHoldReturns(prices: Float64Array, assets: number, start: number): Float64Array {
  const days = prices.length / assets;
  const returns = new Float64Array(days - 1 - start);
  for (let t = start; t < days - 1; t++) {
    let sum = 0;
    for (let a = 0; a < assets; a++) sum += prices[a * days + t + 1]! / prices[a * days + t]! - 1;
    returns[t - start] = sum / assets;
  }
  return returns;
}

/** lo, lo+step, ..., up to hi inclusive. */
function range(lo: number, hi: number, step: number): number[] {
  return Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);
}

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

await init();

try {
  const ASSETS = 8;
  const DAYS = 5 * TRADING_DAYS_PER_YEAR + 1; // 5 years of daily closes
  const SEED = 7;
  const fastWindows = range(5, 50, 1);
  const slowWindows = range(20, 200, 1);
  // Every pair is scored on the same days: from the first day the longest window is defined.
  const start = Math.max(...slowWindows) - 1;

  const prices = generatePrices(ASSETS, DAYS, SEED);
  const pricesRef = put(prices); // stored once; tasks get this ref, not a copy of the array
  const pairs = fastWindows.reduce((n, f) => n + slowWindows.filter((s) => s > f).length, 0);

  console.log(`prices     ${ASSETS} assets × ${DAYS} days of synthetic GBM (${(prices.byteLength / 1024).toFixed(0)} KiB, put once, shared by every task)`);
  console.log(`grid       fast ${fastWindows[0]}..${fastWindows.at(-1)} × slow ${slowWindows[0]}..${slowWindows.at(-1)}, fast < slow: ${pairs} pairs`);
  console.log(`tasks      ${fastWindows.length} (one per fast window) on ${os.availableParallelism()} workers`);
  console.log(`test days  ${DAYS - 1 - start} (from day ${start}), cost ${COST_PER_TRADE * 1e4} bp per trade\n`);

  const t0 = performance.now();
  const refs = fastWindows.map((fast) => sweepFastWindow.remote(pricesRef, ASSETS, fast, slowWindows, start));
  const scores = (await get(refs)).flat();
  const seconds = (performance.now() - t0) / 1000;

  scores.sort((x, y) => y.sharpe - x.sharpe);
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
  const row = (cols: (string | number)[]) => cols.map((c, i) => String(c).padStart([5, 6, 6, 8, 14, 14, 8][i] ?? 8)).join("");

  console.log(row(["rank", "fast", "slow", "Sharpe", "total return", "max drawdown", "trades"]));
  scores.slice(0, 5).forEach((s, i) =>
    console.log(row([i + 1, s.fast, s.slow, s.sharpe.toFixed(2), pct(s.totalReturn), pct(-s.maxDrawdown), s.trades])));
  const hold = scoreReturns(buyAndHoldReturns(prices, ASSETS, start));
  console.log(row(["", "buy &", "hold", hold.sharpe.toFixed(2), pct(hold.totalReturn), pct(-hold.maxDrawdown), 0]));

  const best = scores[0]!;
  const worst = scores.at(-1)!;
  console.log(`\nbest       fast=${best.fast} slow=${best.slow}: Sharpe ${best.sharpe.toFixed(2)}, total return ${pct(best.totalReturn)}`);
  console.log(`worst      fast=${worst.fast} slow=${worst.slow}: Sharpe ${worst.sharpe.toFixed(2)}, total return ${pct(worst.totalReturn)}`);
  console.log(`evaluated  ${scores.length} pairs in ${seconds.toFixed(2)} s`);
  console.log("\nNote: the prices are a random walk, so no rule has a real edge here; the best of many");
  console.log("in-sample results is partly luck. Check a chosen pair on data it was not picked on.");
} finally {
  await shutdown();
}
