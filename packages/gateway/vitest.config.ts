import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source through the `@llmrr/source` export condition.
const conditions = ['@llmrr/source', 'import', 'module', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@llmrr/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
