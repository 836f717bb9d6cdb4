/** Small helpers for integration tests that expect failures. */

/** The error `promise` rejects with; fails the test when it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    if (error instanceof Error) return error as Error & { code?: string };
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error(`expected a rejection, got the value ${JSON.stringify(value)}`);
}

/** The error `promise` rejects with and how long that took, in ms. */
export async function timedRejectionOf(promise: Promise<unknown>): Promise<{ error: Error & { code?: string }; ms: number }> {
  const start = performance.now();
  const error = await rejectionOf(promise);
  return { error, ms: performance.now() - start };
}
