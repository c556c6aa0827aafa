import type { Capability, ModelConfig } from '../../config/schema.js';
import { apiKeySource, resolveApiKey, type EngineContext } from '../types.js';
import { reasoningEnabled } from '../shared/reasoning.js';
import { GEMINI_EMBEDDING_MODEL, GeminiEngine } from './gemini-engine.js';
import { geminiModelThinks } from './gemini-thinking-models.js';
import { parseGeminiEngineOptions } from './gemini-engine-options.js';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/** `apiKey`, else the env var named by `apiKeyEnv`, else GEMINI_API_KEY, else GOOGLE_API_KEY (not with `namedEnvOnly`). */
function geminiApiKey(model: ModelConfig, ctx: EngineContext): { key: string | undefined; source: string } {
  const key = resolveApiKey(model, ctx, 'GEMINI_API_KEY') || resolveApiKey(model, ctx, 'GOOGLE_API_KEY');
  return { key, source: apiKeySource(model, ctx, ['GEMINI_API_KEY', 'GOOGLE_API_KEY']) };
}

/**
 * Factory of the `gemini` engine (Gemini API, `x-goog-api-key`). A missing key fails the call with
 * `authentication`, not the factory; bad `options` throw `config_invalid`.
 */
export function createGeminiEngine(model: ModelConfig, ctx: EngineContext): GeminiEngine {
  const options = parseGeminiEngineOptions(model.options, model.name);
  const { key, source } = geminiApiKey(model, ctx);
  return new GeminiEngine({
    modelId: model.model ?? model.name,
    baseURL: model.baseURL ?? GEMINI_DEFAULT_BASE_URL,
    apiVersion: options.apiVersion,
    apiKey: key,
    apiKeySource: source,
    headers: model.headers ?? {},
    fetch: ctx.fetch,
    defaultMaxTokens: model.maxOutputTokens,
    exactTokenCount: options.exactTokenCount,
    embeddingModel: options.embeddingModel,
    embeddingDimensions: options.embeddingDimensions,
    thoughtSignatureCacheSize: options.thoughtSignatureCacheSize,
    allowPrivateImageUrls: options.allowPrivateImageUrls,
    imageFetch: options.imageFetch,
    reasoning: reasoningEnabled(model, geminiModelThinks(model.model ?? model.name)),
    ...(options.prefill !== undefined ? { prefill: options.prefill } : {}),
    deployment: model.name,
  });
}

const EMBED: readonly Capability[] = Object.freeze(['embeddings']);

/**
 * An embedding model (`gemini-embedding-001`, `text-embedding-004`) embeds only: Google has no :generateContent for
 * it, so the router never offers it for chat. Undefined otherwise: the engine's own (chat, with `embeddings` when
 * `options.embeddingModel` names the model to embed with). A configured `capabilities` list wins.
 */
createGeminiEngine.capabilities = (model: ModelConfig): readonly Capability[] | undefined => (GEMINI_EMBEDDING_MODEL.test(model.model ?? model.name) ? EMBED : undefined);

createGeminiEngine.checkConfig = (model: ModelConfig): void => {
  parseGeminiEngineOptions(model.options, model.name);
};

/** The Gemini API takes no call without a key. */
createGeminiEngine.needsApiKey = (): boolean => true;
