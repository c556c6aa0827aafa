import { LLMError } from '../errors/llm-error.js';
import type { LanguageEngine } from '../spec/index.js';
import { normalize, type Embedder } from './embedder.js';

/**
 * Embeddings from any engine that implements `embed` (e.g. an OpenAI-compatible provider's
 * `/v1/embeddings`). Vectors are normalized to unit length, so cosine similarity is a dot product.
 */
export class EngineEmbedder implements Embedder {
  readonly id: string;

  constructor(private readonly engine: LanguageEngine, id?: string) {
    if (typeof engine.embed !== 'function') {
      throw new LLMError({
        code: 'config_invalid',
        message: `cache.semantic.embedder: engine ${engine.provider}/${engine.modelId} cannot embed (no embed method)`,
        param: 'cache.semantic.embedder',
      });
    }
    this.id = id ?? `${engine.provider}/${engine.modelId}`;
  }

  async embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const result = await this.engine.embed!([...texts], options?.signal ? { signal: options.signal } : undefined);
    if (result.embeddings.length !== texts.length) {
      throw new LLMError({
        code: 'invalid_response',
        message: `${this.id} returned ${result.embeddings.length} embeddings for ${texts.length} inputs`,
        provider: this.engine.provider,
      });
    }
    return result.embeddings.map((v) => normalize(Float32Array.from(v)));
  }
}
