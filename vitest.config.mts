import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    // At least 4× the slowest test's idle time (cot-dpo's smoke run, ~10 s; it sets its own
    // 120 s), so a machine with both cores busy still passes; never removed, so a hang ends.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Worker threads and wasm: keep files in separate processes, two at a time (2 cores).
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
