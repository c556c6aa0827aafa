import type { SemanticCacheConfigInput } from '../config/schema.js';
import { BatchingEmbedder } from '../embeddings/batching-embedder.js';
import { CachedEmbedder } from '../embeddings/cached-embedder.js';
import type { Embedder } from '../embeddings/embedder.js';
import { EngineEmbedder } from '../embeddings/engine-embedder.js';
import { LLMError } from '../errors/llm-error.js';
import type { LanguageEngine } from '../spec/index.js';
import { MemorySemanticStore } from './memory-semantic-store.js';
import { RedisSemanticStore } from './redis-semantic-store.js';
import { RouterEmbedder, type RouterEmbed } from './router-embedder.js';
import { parseSemanticCacheConfig, SemanticCache, type SemanticGuard } from './semantic-cache.js';
import { SqliteSemanticStore } from './sqlite-semantic-store.js';
import type { SemanticStore } from './semantic-store.js';

export interface CreateSemanticCacheOptions {
  /** The engine of a deployment, for `embedder: <deployment name>` (the router passes its own lookup). */
  engineFor?: (deployment: string) => LanguageEngine | undefined;
  /**
   * A router's `embed`: `embedder: <deployment>` then embeds through the router (the deployment's limits and
   * circuit, `request:end` events with the cost, marked with `embedMetadata`) instead of calling its engine.
   */
  embed?: RouterEmbed;
  embedMetadata?: Record<string, unknown>;
  guard?: SemanticGuard;
  now?: () => number;
  /** Relative SQLite paths resolve against this directory. */
  baseDir?: string;
  /** Told what the store reports once (the SQLite store: rows cut at open, the first failed flush of pending hits, hits not written at close). Default: `console.warn`. */
  warn?: (message: string) => void;
}

/**
 * Builds the semantic cache a config describes: the store (`memory`, `sqlite` file, `redis` shared) and
 * the embedder (`local-use`, or the named deployment: through `options.embed`, the router's, when given, else
 * its engine's `embed`; batched and cached).
 */
export async function createSemanticCache(input: SemanticCacheConfigInput, options: CreateSemanticCacheOptions = {}): Promise<SemanticCache> {
  const config = parseSemanticCacheConfig(input);
  let embedder: Embedder | undefined;
  if (config.embedder !== 'local-use') {
    const engine = options.engineFor?.(config.embedder);
    if (!engine) {
      throw new LLMError({
        code: 'config_invalid',
        message: `cache.semantic.embedder: no deployment named "${config.embedder}" (use "local-use" or a configured model name)`,
        param: 'cache.semantic.embedder',
      });
    }
    const direct = new EngineEmbedder(engine, `deployment:${config.embedder}`); // (refuses an engine that cannot embed)
    const base = options.embed ? new RouterEmbedder(options.embed, config.embedder, options.embedMetadata ? { metadata: options.embedMetadata } : {}) : direct;
    embedder = new CachedEmbedder(new BatchingEmbedder(base, { maxBatch: 64 }));
  }
  const limits = { maxEntries: config.maxEntries, maxSizeBytes: config.maxSizeBytes, ...(options.now ? { now: options.now } : {}) };
  let store: SemanticStore;
  const s = config.store;
  if (s.type === 'sqlite') {
    const path = s.path === ':memory:' || s.path.startsWith('/') || !options.baseDir ? s.path : `${options.baseDir.replace(/[\\/]+$/, '')}/${s.path}`;
    store = await SqliteSemanticStore.open(path, { ...limits, ...(options.warn ? { warn: options.warn } : {}) });
  } else if (s.type === 'redis') {
    store = await RedisSemanticStore.connect({ url: s.url, prefix: s.prefix, ...limits });
  } else {
    store = new MemorySemanticStore(limits);
  }
  return new SemanticCache({
    config,
    store,
    ...(embedder ? { embedder } : {}),
    ...(options.guard ? { guard: options.guard } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}
