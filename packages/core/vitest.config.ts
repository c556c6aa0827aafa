import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@llmrr/source'] },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
