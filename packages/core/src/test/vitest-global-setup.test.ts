/**
 * `runMayNeedServices` of vitest.global-setup.ts: which filtered test runs start Redis and PostgreSQL.
 * (The setup file sits outside `src`, so it is imported by a path the type checker does not follow.)
 */
import { describe, expect, it } from 'vitest';

const setupFile = '../../vitest.global-setup.js';
const { runMayNeedServices } = (await import(/* @vite-ignore */ setupFile)) as { runMayNeedServices(argv: readonly string[]): boolean };

const vitest = (...args: string[]) => runMayNeedServices(['node', 'vitest.mjs', ...args]);

describe('runMayNeedServices', () => {
  it('starts the services for an unfiltered run', () => {
    expect(vitest('run')).toBe(true);
    expect(vitest()).toBe(true);
    expect(vitest('run', '--reporter=default')).toBe(true);
  });

  it('starts them for runs filtered to src/router (the Redis circuit-state tests live there)', () => {
    expect(vitest('run', 'src/router')).toBe(true);
    expect(vitest('run', 'src/router/')).toBe(true);
    expect(vitest('run', './src/router', 'src/cli')).toBe(true);
    expect(vitest('run', 'src/router/resilience')).toBe(true);
    expect(vitest('run', 'src/router/resilience/redis-circuit-state-store.test.ts')).toBe(true);
    expect(vitest('run', `${process.cwd()}/src/router`)).toBe(true);
    expect(vitest('run', 'router')).toBe(true);
  });

  it('starts them for the stores and caches, and for the whole src tree', () => {
    expect(vitest('run', 'src/stores')).toBe(true);
    expect(vitest('run', 'src/cache/redis-cache-store.test.ts')).toBe(true);
    expect(vitest('run', 'src/semantic-cache')).toBe(true);
    expect(vitest('run', 'src')).toBe(true);
    expect(vitest('run', 'shared-mode')).toBe(true);
  });

  it('leaves them off for runs that cannot reach those tests', () => {
    expect(vitest('run', 'src/cli', 'src/engines')).toBe(false);
    expect(vitest('run', 'src/router/strategies')).toBe(false);
    expect(vitest('run', 'src/router/llm-router.test.ts')).toBe(false);
    expect(vitest('run', '--reporter', 'verbose', 'src/engines/mock')).toBe(false);
  });
});
