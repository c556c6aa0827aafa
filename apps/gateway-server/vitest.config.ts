import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source through the `@llmrr/source` export condition.
const conditions = ['@llmrr/source', 'import', 'module', 'node', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@llmrr/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    // Starts throwaway Redis and PostgreSQL (when installed) for src/shared-mode.test.ts.
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
