import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../../config/schema.js';
import '../../engines/index.js';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../../test/anthropic-wire-server.js';
import { LLMRouter } from '../llm-router.js';
import type { RouterOptions } from '../types.js';

/** A deployment of `claude-test-1` on an Anthropic wire server (the affinity tests' two deployments of one model). */
export function anthropicDeployment(name: string, server: AnthropicWireServer, extra: Partial<ModelConfigInput> = {}): ModelConfigInput {
  return { name, engine: 'anthropic', model: 'claude-test-1', baseURL: server.url, apiKey: 'ak', ...extra };
}

export interface TwoAnthropicWireServers {
  /** Set in the suite's `beforeAll`. */
  a: AnthropicWireServer;
  b: AnthropicWireServer;
  /** A router without retries or real sleeps, closed after each test. */
  router(models: ModelConfigInput[], routing?: NonNullable<RouterConfigInput['routing']>, options?: RouterOptions): LLMRouter;
}

/** Two Anthropic wire servers for the suite (started once, closed after it) and routers closed after each test. */
export function useTwoAnthropicWireServers(): TwoAnthropicWireServers {
  const routers: LLMRouter[] = [];
  const w = {
    router(models: ModelConfigInput[], routing: NonNullable<RouterConfigInput['routing']> = {}, options: RouterOptions = {}): LLMRouter {
      const r = new LLMRouter({ models, routing: { retries: { max: 0 }, ...routing } }, { env: {}, sleep: async () => {}, ...options });
      routers.push(r);
      return r;
    },
  } as TwoAnthropicWireServers;
  beforeAll(async () => {
    [w.a, w.b] = await Promise.all([startAnthropicWireServer({ apiKey: 'ak' }), startAnthropicWireServer({ apiKey: 'ak' })]);
  });
  afterAll(async () => {
    await Promise.all([w.a.close(), w.b.close()]);
  });
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
  });
  return w;
}

export const CACHE_MARK = { type: 'ephemeral' } as const;
/** A long system prompt (past the minimum a provider caches). */
export const SYSTEM_PROMPT = 'You are a careful assistant who answers briefly. '.repeat(30);

/**
 * Turn `n` of one conversation: the system prompt `system` (marked), n user turns (`<prefix>question i`) and the n-1
 * answers between them (`<prefix>answer i`), the last user turn marked; at most `maxTokens` of output.
 */
export function markedTurn(n: number, options: { maxTokens: number; system?: string; prefix?: string }): GenerateRequest {
  const { system = SYSTEM_PROMPT, prefix = '' } = options;
  const messages: ChatMessage[] = [{ role: 'system', content: system, cacheControl: CACHE_MARK }];
  for (let i = 1; i <= n; i++) {
    const last = i === n;
    messages.push({ role: 'user', content: `${prefix}question ${i}`, ...(last ? { cacheControl: CACHE_MARK } : {}) });
    if (!last) messages.push({ role: 'assistant', content: `${prefix}answer ${i}` });
  }
  return { messages, maxTokens: options.maxTokens };
}
