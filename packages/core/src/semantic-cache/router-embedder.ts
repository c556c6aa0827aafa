import { normalize, type Embedder } from '../embeddings/embedder.js';
import { LLMError } from '../errors/llm-error.js';
import type { RouterCallOptions, RouterEmbedResult } from '../router/types.js';

/** What a `RouterEmbedder` calls: a router's `embed`. */
export type RouterEmbed = (input: readonly string[], options?: RouterCallOptions) => Promise<RouterEmbedResult>;

export interface RouterEmbedderOptions {
  /** Metadata of every embedding call (its `request:start`/`request:end` events). */
  metadata?: Record<string, unknown>;
  /** Gives each call its request id, and takes it back when the call ended (a prefetcher tells its own calls apart). */
  ids?: { take(): string; release(id: string): void };
}

/**
 * Embeddings from a deployment through the router (`embed` with `model`): the deployment's limits and
 * circuit apply, and each call is a `request:end` with its cost, like any other. Vectors are normalized to
 * unit length. Its `id` is `deployment:<name>` (as the engine's embedder for that deployment was named).
 */
export class RouterEmbedder implements Embedder {
  readonly id: string;

  constructor(
    private readonly embedVia: RouterEmbed,
    private readonly deployment: string,
    private readonly options: RouterEmbedderOptions = {},
  ) {
    this.id = `deployment:${deployment}`;
  }

  async embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const ids = this.options.ids;
    const requestId = ids?.take();
    try {
      const r = await this.embedVia(texts, {
        model: this.deployment,
        ...(requestId !== undefined ? { requestId } : {}),
        ...(this.options.metadata ? { metadata: this.options.metadata } : {}),
        ...(options?.signal ? { signal: options.signal } : {}),
      });
      if (r.embeddings.length !== texts.length) {
        throw new LLMError({ code: 'invalid_response', message: `${this.id} returned ${r.embeddings.length} embeddings for ${texts.length} inputs`, provider: r.provider });
      }
      return r.embeddings.map((v) => normalize(Float32Array.from(v)));
    } finally {
      if (requestId !== undefined) ids!.release(requestId);
    }
  }
}
