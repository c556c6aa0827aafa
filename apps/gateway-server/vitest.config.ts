import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript source through the `@llmrr/source` export condition.
// Neither `import` nor `module`: vitest passes these to Node as `--conditions` for external packages too, where they
// apply to `require` as well: under `import` a CommonJS `require` picks a dual package's ES build (pg's
// `require('pg-pool')` got a module namespace, not its class), under `module` a bundler-only build
// (@opentelemetry/api's build/esm, whose extensionless imports Node cannot load).
const conditions = ['@llmrr/source', 'node', 'default'];

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
