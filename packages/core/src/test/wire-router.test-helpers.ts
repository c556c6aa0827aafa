/**
 * A router over `openai-compatible` deployments for the router's wire tests (test-only: `*.test-helpers.ts`
 * is left out of the build).
 */
import { afterEach, beforeEach } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterOptions } from '../router/types.js';
import { startOpenAIWireServer, type OpenAIWireServer } from './openai-wire-server.js';

/**
 * `models` (typically pointing at `startOpenAIWireServer` servers) under the `priority` strategy with one
 * fast retry, no environment, and a `sleep` that records its delays instead of waiting.
 */
export function openAIWireRouter(
  models: ModelConfigInput[],
  routing: NonNullable<RouterConfigInput['routing']> = {},
  options: RouterOptions = {},
): { router: LLMRouter; sleeps: number[] } {
  const sleeps: number[] = [];
  const router = new LLMRouter(
    { models, routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, ...routing } },
    {
      engineFactories: { 'openai-compatible': createOpenAICompatibleEngine },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      env: {},
      ...options,
    },
  );
  return { router, sleeps };
}

/** The two local servers of `usePrimaryAndBackup` and a router over them. */
export interface PrimaryAndBackup {
  /** The server of deployment `primary` (its default answer). */
  readonly primary: OpenAIWireServer;
  /** The server of deployment `backup`, answering `from backup`. */
  readonly backup: OpenAIWireServer;
  /**
   * `openAIWireRouter` over deployment `primary` (model `gpt-test`, priority 1) and `backup` (`gpt-backup`, priority
   * 2); `primaryFields` override the primary deployment's fields (another `baseURL`, its own `timeouts`).
   */
  router(routing?: NonNullable<RouterConfigInput['routing']>, options?: RouterOptions, primaryFields?: Partial<ModelConfigInput>): { router: LLMRouter; sleeps: number[] };
}

/**
 * The set-up of a file whose tests fail over from a primary OpenAI-wire server to a backup: registers hooks that start
 * both servers before each test and close them after it. Call it at the top of the file; read its fields in tests.
 */
export function usePrimaryAndBackup(): PrimaryAndBackup {
  let servers: { primary: OpenAIWireServer; backup: OpenAIWireServer } | undefined;
  beforeEach(async () => {
    const [primary, backup] = await Promise.all([startOpenAIWireServer(), startOpenAIWireServer({ script: { text: 'from backup' } })]);
    servers = { primary, backup };
  });
  afterEach(async () => {
    const started = servers;
    servers = undefined;
    if (started) await Promise.all([started.primary.close(), started.backup.close()]);
  });
  const started = () => {
    if (!servers) throw new Error('usePrimaryAndBackup(): the servers start in beforeEach; read them in tests');
    return servers;
  };
  return {
    get primary() {
      return started().primary;
    },
    get backup() {
      return started().backup;
    },
    router(routing = {}, options = {}, primaryFields = {}) {
      const { primary, backup } = started();
      return openAIWireRouter(
        [
          { name: 'primary', engine: 'openai-compatible', baseURL: primary.baseURL, model: 'gpt-test', priority: 1, apiKey: 'k', ...primaryFields },
          { name: 'backup', engine: 'openai-compatible', baseURL: backup.baseURL, model: 'gpt-backup', priority: 2, apiKey: 'k' },
        ],
        routing,
        options,
      );
    },
  };
}
