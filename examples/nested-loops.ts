/**
 * Nested parallel loops (torcpy's nested loops; Ray's nested tasks): an outer map over
 * portfolios whose items each run an inner map over the portfolio's assets. Inner maps are
 * submitted from inside outer tasks; a task waiting on its inner map lends its CPU to the inner
 * tasks, so the nest never deadlocks, even with more outer items than CPUs.
 *
 * Each asset's value at risk is estimated by Monte Carlo (a seeded normal model of its daily
 * returns, 99% quantile of the losses); a portfolio's figure is the sum over its assets. The
 * driver checks every figure against the same computation done in one thread.
 *
 * Run:   pnpm tsx examples/nested-loops.ts [portfolios] [assetsPerPortfolio]
 *        (defaults: 8 portfolios of 12 assets; a few seconds on 2 cores)
 *
 * Layout rule for weft programs: workers import this very file to find the remote functions,
 * and stop evaluating it at `init()`; so they are defined above `init()`, the driver code below.
 */
import os from 'node:os';
import { init, remote, shutdown } from '@weft/core';
import { makeNormal, makeRng } from './random.ts';

/** One asset: its daily return's mean and volatility, and the seed of its scenarios. */
export interface Asset {
  mean: number;
  vol: number;
  seed: number;
}

const SCENARIOS = 200_000;

/** The 99% one-day value at risk of one unit of an asset: the loss exceeded in 1% of scenarios. */
function assetVar({ mean, vol, seed }: Asset): number {
  const normal = makeNormal(makeRng(seed));
  const losses = new Float64Array(SCENARIOS);
  for (let i = 0; i < SCENARIOS; i++) losses[i] = -(mean + vol * normal());
  losses.sort();
  return losses[Math.floor(0.99 * SCENARIOS)] as number;
}

/** The inner loop's item: one asset. */
export const valueAtRisk = remote(function valueAtRisk(asset: Asset): number {
  return assetVar(asset);
});

/** The outer loop's item: a portfolio, whose assets run as an inner map from inside this task. */
export const portfolioVar = remote(async function portfolioVar(assets: Asset[]): Promise<number> {
  const figures = await valueAtRisk.map(assets, { chunkSize: 1 });
  return figures.reduce((sum, x) => sum + x, 0);
});

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

const workers = os.availableParallelism();
await init({ numCpus: workers });

try {
  const portfolios = Number(process.argv[2] ?? 8);
  const perPortfolio = Number(process.argv[3] ?? 12);
  const rng = makeRng(7);
  const book = Array.from({ length: portfolios }, (_, p) => Array.from({ length: perPortfolio }, (_, a): Asset => ({
    mean: 0.0005 * (rng() - 0.5), vol: 0.01 + 0.02 * rng(), seed: 1_000 * p + a,
  })));
  console.log(`${portfolios} portfolios × ${perPortfolio} assets, ${SCENARIOS.toLocaleString('en-US')} scenarios each, on ${workers} workers`);

  let t0 = performance.now();
  // The outer map: more portfolios than CPUs, each waiting on its own inner map.
  const nested = await portfolioVar.map(book, { chunkSize: 1 });
  const parallelSeconds = (performance.now() - t0) / 1000;

  t0 = performance.now();
  const oneThread = book.map((assets) => assets.reduce((sum, asset) => sum + assetVar(asset), 0));
  const sequentialSeconds = (performance.now() - t0) / 1000;

  for (const [p, figure] of nested.entries()) console.log(`portfolio ${p}   99% one-day VaR ${(100 * figure).toFixed(3)}% of one unit per asset`);
  const same = nested.every((figure, p) => figure === oneThread[p]);
  console.log(`\nnested parallel     ${parallelSeconds.toFixed(2)} s  (${portfolios} outer tasks, ${portfolios * perPortfolio} inner tasks)`);
  console.log(`one thread          ${sequentialSeconds.toFixed(2)} s`);
  console.log(`speed-up            ${(sequentialSeconds / parallelSeconds).toFixed(2)}×`);
  console.log(`results identical   ${same ? 'yes' : 'NO'} (nested parallel vs one thread, portfolio by portfolio)`);
  if (!same) process.exitCode = 1;
} finally {
  await shutdown();
}
