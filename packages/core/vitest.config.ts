import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@llmrr/source'] },
  test: {
    include: ['src/**/*.test.ts'],
    // Starts throwaway Redis and PostgreSQL (when installed) for the shared-mode store tests.
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
