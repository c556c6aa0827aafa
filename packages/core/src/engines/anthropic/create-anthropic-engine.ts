import type { ModelConfig } from '../../config/schema.js';
import type { EngineContext } from '../types.js';
import { apiKeySource, resolveApiKey } from '../types.js';
import { reasoningEnabled } from '../shared/reasoning.js';
import { AnthropicEngine } from './anthropic-engine.js';
import { anthropicModelThinks } from './anthropic-thinking-models.js';
import { parseAnthropicEngineOptions } from './anthropic-engine-options.js';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** `max_tokens` sent when neither the request nor the model config (`maxOutputTokens`) sets one. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/**
 * Factory of the `anthropic` engine. Key: `apiKey`, else the env var named by `apiKeyEnv`, else
 * `ANTHROPIC_API_KEY` (a missing key fails the call with `authentication`, not the factory).
 * Throws `config_invalid` when `options` are wrong.
 */
export function createAnthropicEngine(model: ModelConfig, ctx: EngineContext): AnthropicEngine {
  const options = parseAnthropicEngineOptions(model.options, model.name);
  return new AnthropicEngine({
    modelId: model.model ?? model.name,
    baseURL: model.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL,
    apiKey: resolveApiKey(model, ctx, 'ANTHROPIC_API_KEY'),
    apiKeySource: apiKeySource(model, ctx, ['ANTHROPIC_API_KEY']),
    headers: model.headers ?? {},
    fetch: ctx.fetch,
    defaultMaxTokens: model.maxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    ...(model.maxOutputTokens !== undefined ? { maxOutputTokens: model.maxOutputTokens } : {}),
    reasoning: reasoningEnabled(model, anthropicModelThinks(model.model ?? model.name)),
    anthropicVersion: options.anthropicVersion,
    jsonToolName: options.jsonToolName,
    exactTokenCount: options.exactTokenCount,
    ...(options.midConversationSystem !== undefined ? { midConversationSystem: options.midConversationSystem } : {}),
    ...(options.strictTools !== undefined ? { strictTools: options.strictTools } : {}),
    ...(options.prefill !== undefined ? { prefill: options.prefill } : {}),
    deployment: model.name,
  });
}

createAnthropicEngine.checkConfig = (model: ModelConfig): void => {
  parseAnthropicEngineOptions(model.options, model.name);
};

/** Anthropic's API takes no call without a key. */
createAnthropicEngine.needsApiKey = (): boolean => true;
