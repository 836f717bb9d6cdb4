/**
 * A parameter server: an actor holds the model, tasks compute gradients on shards of the data.
 *
 * The model is a linear regression y ≈ X·w with FEATURES weights, trained by full-batch
 * gradient descent on synthetic data (known true weights plus Gaussian noise). The driver makes
 * the data, splits it into SHARDS shards and `put`s each shard into the object store once. Then,
 * every round:
 *
 *   1. `ps.getWeights.remote()` returns a ref to the actor's current weights (a Float64Array);
 *   2. that ref goes, unresolved, to one `gradient` task per shard: weft waits for the actor's
 *      result and hands each task the weights, and the task the shard, both by value;
 *   3. the driver passes the gradient refs to `ps.applyGradients.remote(...grads)`: the actor
 *      receives the gradients themselves, averages them, takes a step, and returns the loss
 *      (mean squared error) at the weights the gradients were computed for.
 *
 * The driver never touches the weights or the gradients during training: refs flow actor →
 * tasks → actor. It only gets the loss of each round to print it (which also paces the rounds).
 * Calls on one actor run in submission order, so round r's `getWeights` sees round r-1's step.
 *
 * Shows: an actor with state (`@remote()` on a class in a driver script), actor method results
 * as task arguments, task results as actor method arguments, `put` for data read every round.
 *
 * Run:   pnpm tsx examples/parameter-server.ts
 *        (a few seconds on 2 cores)
 *
 * Layout rule for weft programs: workers import this very file to find `gradient` and
 * `ParameterServer`, and stop evaluating it at `init()`. So both are defined above `init()`
 * (the class decorated with `@remote()` so that workers can find it), and the driver code is
 * below it.
 */
import os from "node:os";
import { init, shutdown, remote, get, put, Actor, ObjectRef } from "@weft/core";
import { makeNormal, makeRng } from './random.ts';

// ---------------------------------------------------------------------------------------------
// Code that runs in workers (everything above `init()`).
// ---------------------------------------------------------------------------------------------

/** One shard of the training data: `rows` samples of `features` features, row-major. */
export interface Shard {
  rows: number;
  features: number;
  /** rows × features, row-major */
  x: Float64Array;
  /** rows targets */
  y: Float64Array;
}

/** What a gradient task sends back: sums over its shard, so that shards of any size combine exactly. */
export interface GradientPart {
  /** Σ over rows of (x·w − y)·x, one entry per feature */
  gradSum: Float64Array;
  /** Σ over rows of (x·w − y)² */
  sqErrSum: number;
  rows: number;
}

/** Gradient of ½·MSE on one shard at weights `w` (the shard and the weights arrive as values). */
export const gradient = remote(function gradient(shard: Shard, w: Float64Array): GradientPart {
  const { rows, features, x, y } = shard;
  const gradSum = new Float64Array(features);
  let sqErrSum = 0;
  for (let i = 0; i < rows; i++) {
    const offset = i * features;
    let prediction = 0;
    for (let j = 0; j < features; j++) prediction += x[offset + j]! * w[j]!;
    const err = prediction - y[i]!;
    sqErrSum += err * err;
    for (let j = 0; j < features; j++) gradSum[j]! += err * x[offset + j]!;
  }
  return { gradSum, sqErrSum, rows };
});

/** Holds the model. `@remote()` lets workers find this class although it lives in a driver script. */
@remote()
export class ParameterServer extends Actor {
  weights: Float64Array;
  readonly learningRate: number;
  steps = 0;

  constructor(features: number, learningRate: number) {
    super();
    this.weights = new Float64Array(features); // start at w = 0
    this.learningRate = learningRate;
  }

  /** The current weights. Each step makes a new array, so a returned one is never changed. */
  getWeights(): Float64Array {
    return this.weights;
  }

  /**
   * Averages the gradient parts of one round (each arrives as a value: weft resolves the refs the
   * driver passed), takes one gradient-descent step, and returns the MSE at the old weights.
   */
  applyGradients(...parts: GradientPart[]): number {
    let rows = 0;
    let sqErrSum = 0;
    const grad = new Float64Array(this.weights.length);
    for (const part of parts) {
      rows += part.rows;
      sqErrSum += part.sqErrSum;
      for (let j = 0; j < grad.length; j++) grad[j]! += part.gradSum[j]!;
    }
    const next = new Float64Array(this.weights.length);
    for (let j = 0; j < next.length; j++) next[j] = this.weights[j]! - (this.learningRate * grad[j]!) / rows;
    this.weights = next;
    this.steps += 1;
    return sqErrSum / rows;
  }

  /** Steps taken so far. */
  stepCount(): number {
    return this.steps;
  }
}

// ---------------------------------------------------------------------------------------------
// Driver (workers never get past `init()`).
// ---------------------------------------------------------------------------------------------

await init();

try {
  const FEATURES = 20;
  const SHARDS = 8;
  const ROWS_PER_SHARD = 25_000;
  const ROUNDS = 20;
  const LEARNING_RATE = 0.8; // ≈ 2 / (λmin + λmax) of E[xxᵀ] for these scales: the fastest plain step
  const NOISE = 0.1;

  // Synthetic data: features with different scales (0.5 to 1.5), so that plain gradient descent
  // has some work to do, and targets from known weights plus noise.
  const normal = makeNormal(makeRng(42));
  const trueWeights = Float64Array.from({ length: FEATURES }, () => normal());
  const scales = Float64Array.from({ length: FEATURES }, (_, j) => 0.5 + j / (FEATURES - 1));
  const shardRefs: ObjectRef<Shard>[] = [];
  for (let s = 0; s < SHARDS; s++) {
    const x = new Float64Array(ROWS_PER_SHARD * FEATURES);
    const y = new Float64Array(ROWS_PER_SHARD);
    for (let i = 0; i < ROWS_PER_SHARD; i++) {
      let target = 0;
      for (let j = 0; j < FEATURES; j++) {
        const v = normal() * scales[j]!;
        x[i * FEATURES + j] = v;
        target += v * trueWeights[j]!;
      }
      y[i] = target + NOISE * normal();
    }
    shardRefs.push(put({ rows: ROWS_PER_SHARD, features: FEATURES, x, y })); // stored once, read every round
  }
  const dataMb = (SHARDS * ROWS_PER_SHARD * (FEATURES + 1) * 8) / 1e6;
  console.log(`parameter server: linear regression, ${FEATURES} features, ${SHARDS} shards × ` +
    `${ROWS_PER_SHARD.toLocaleString("en-US")} rows (${dataMb.toFixed(0)} MB put once), ` +
    `${os.availableParallelism()} CPUs`);
  console.log(`noise variance ${(NOISE * NOISE).toExponential(1)}: the expected MSE at the true weights\n`);

  const ps = ParameterServer.remote(FEATURES, LEARNING_RATE);
  const t0 = performance.now();
  let previous = Infinity;
  for (let round = 1; round <= ROUNDS; round++) {
    const weights = ps.getWeights.remote();                              // ref from the actor …
    const grads = shardRefs.map((shard) => gradient.remote(shard, weights)); // … to the tasks …
    const loss = await get(ps.applyGradients.remote(...grads));          // … and back to the actor
    const trend = loss < previous ? "↓" : "↑ (not decreasing!)";
    console.log(`round ${String(round).padStart(2)}  loss (MSE) ${loss.toExponential(4)}  ${trend}`);
    previous = loss;
  }
  const seconds = (performance.now() - t0) / 1000;

  const [finalWeights, steps] = await get([ps.getWeights.remote(), ps.stepCount.remote()]);
  let finalSqErr = 0;
  let maxAbsErr = 0;
  let sqDist = 0;
  let sqNorm = 0;
  for (let j = 0; j < FEATURES; j++) {
    const d = finalWeights[j]! - trueWeights[j]!;
    sqDist += d * d;
    sqNorm += trueWeights[j]! ** 2;
    maxAbsErr = Math.max(maxAbsErr, Math.abs(d));
  }
  // The loss at the final weights, with one more round of gradient tasks (no step taken).
  const parts = await get(shardRefs.map((shard) => gradient.remote(shard, finalWeights)));
  for (const part of parts) finalSqErr += part.sqErrSum;
  const finalLoss = finalSqErr / (SHARDS * ROWS_PER_SHARD);

  console.log(`\n${steps} steps in ${seconds.toFixed(2)} s (${((seconds / ROUNDS) * 1000).toFixed(0)} ms per round)`);
  console.log(`final loss (MSE)             ${finalLoss.toExponential(4)}  (noise floor ${(NOISE * NOISE).toExponential(1)})`);
  console.log(`‖w − w_true‖ / ‖w_true‖      ${(Math.sqrt(sqDist) / Math.sqrt(sqNorm)).toExponential(2)}`);
  console.log(`max |w_j − w_true_j|         ${maxAbsErr.toExponential(2)}`);
  console.log("first weights, learned vs true:");
  for (let j = 0; j < 4; j++) console.log(`  w[${j}]  ${finalWeights[j]!.toFixed(4).padStart(8)}  ${trueWeights[j]!.toFixed(4).padStart(8)}`);
  if (!(finalLoss < previous) || steps !== ROUNDS) process.exitCode = 1;
} finally {
  await shutdown();
}
