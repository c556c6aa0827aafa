import { resolve } from 'node:path';
import { EMBEDDING_CACHE_DIR, EmbeddingCache } from '../../learning/features/embedding-cache.js';
import { USE_LITE, loadUseLiteEmbedder } from '../../learning/features/use-lite-embedder.js';
import type { EmbeddingLookup } from '../../learning/training/train-predictors.js';
import type { CliContext } from '../cli-io.js';

/**
 * Embeddings of `prompts` from the on-disk cache (`.llmrr/cache/embeddings`, or LLMRR_EMBEDDING_CACHE),
 * computing the missing ones first. Returns a lookup by prompt text for training and evaluation.
 */
export async function embeddingLookupFor(prompts: readonly string[], ctx: CliContext, log: (line: string) => void): Promise<{ dim: number; model: string; lookup: EmbeddingLookup }> {
  const dir = resolve(ctx.cwd, ctx.env['LLMRR_EMBEDDING_CACHE'] ?? EMBEDDING_CACHE_DIR);
  const cache = await EmbeddingCache.open(dir, USE_LITE.model, USE_LITE.dim);
  const unique = [...new Set(prompts)];
  const missing = unique.filter((p) => !cache.get(p)).length;
  log(`embeddings: ${unique.length - missing} cached, ${missing} to compute (${cache.file})`);
  if (missing > 0) {
    const embed = await loadUseLiteEmbedder();
    const t0 = Date.now();
    let last = 0;
    await cache.fill(unique, embed, (done, total) => {
      if (Date.now() - last > 10_000 || done === total) {
        last = Date.now();
        log(`  embedded ${done}/${total} (${((Date.now() - t0) / Math.max(1, done)).toFixed(1)} ms per prompt)`);
      }
    });
  }
  return { dim: USE_LITE.dim, model: USE_LITE.model, lookup: (p) => cache.get(p) };
}
