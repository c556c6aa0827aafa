import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@llmrr/source'] },
  // Vitest runs tests in Vite's SSR environment, which takes its own resolve conditions.
  ssr: { resolve: { conditions: ['@llmrr/source'], externalConditions: ['@llmrr/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
