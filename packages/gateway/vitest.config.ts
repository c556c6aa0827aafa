import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source through the `@llmrr/source` export condition.
// No `import` condition: vitest passes these to Node as `--conditions` for external packages too, and under it a
// CommonJS `require` picks a dual package's ES build (pg's `require('pg-pool')` got a module namespace, not its class).
const conditions = ['@llmrr/source', 'module', 'node', 'default'];

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
