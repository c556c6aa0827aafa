import { BatchingEmbedder } from './batching-embedder.js';
import { CachedEmbedder } from './cached-embedder.js';
import { LocalUseEmbedder } from './local-use-embedder.js';

/** The shared stack: `close()` leaves it open (others use it); it holds no timer or connection to release. */
class SharedLocalUseEmbedder extends CachedEmbedder {
  override close(): Promise<void> {
    return Promise.resolve();
  }
}

let shared: CachedEmbedder | undefined;

/**
 * The process's one USE lite stack: `LocalUseEmbedder` batched (32 texts a call) behind a 10 000-text cache. The
 * semantic cache's `local-use` embedder and the prompt embedder of `intelligent` / `adaptive` router models trained
 * with USE lite both use it, so the model is in memory once and a text either embedded is not embedded again by
 * the other. Its `close()` does nothing (a closing router must not stop the others).
 */
export function sharedLocalUseEmbedder(): CachedEmbedder {
  return (shared ??= new SharedLocalUseEmbedder(new BatchingEmbedder(new LocalUseEmbedder(), { maxBatch: 32 })));
}
