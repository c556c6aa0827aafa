import { LocalUseEmbedder } from '../../embeddings/local-use-embedder.js';

/** Name and dimension the embedding cache and router models record for Universal Sentence Encoder lite. */
export const USE_LITE = { model: 'use-lite', dim: 512 } as const;

/**
 * A batch embedder over the embeddings module's `LocalUseEmbedder` (Universal Sentence Encoder lite,
 * packaged weights, unit-length vectors). A missing package is an `engine_unavailable` LLMError saying
 * what to install (raised on the first call).
 */
export async function loadUseLiteEmbedder(): Promise<(batch: string[]) => Promise<Float32Array[]>> {
  const embedder = new LocalUseEmbedder();
  await embedder.embed(['warm up']);
  return (batch) => embedder.embed(batch);
}
