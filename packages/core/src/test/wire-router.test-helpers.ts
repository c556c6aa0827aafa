/**
 * A router over `openai-compatible` deployments for the router's wire tests (test-only: `*.test-helpers.ts`
 * is left out of the build).
 */
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterOptions } from '../router/types.js';

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
