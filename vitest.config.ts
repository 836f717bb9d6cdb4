import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (no processes, no ports) and integration tests that start a
// real embedded cluster with worker threads. Integration files run one at a time: each starts
// a worker per CPU, and the machine has two.
export default defineConfig({
  // Vite's Oxc transform leaves TC39 class decorators (`@remote(...)`) in the output, which Node 20
  // cannot parse; lower them as legacy decorators (remote's decorator only uses the class).
  oxc: { decorator: { legacy: true } },
  test: {
    // Worker crashes are logged as warnings; the tests cause them on purpose.
    env: { WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'error' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/integration/**'],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts'],
          pool: 'forks',
          // Tests of freeing call gc() to have the FinalizationRegistry report dropped refs.
          execArgv: ['--expose-gc'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
