/**
 * A semantic cache loads what its `local-use` embedder's coverage needs (the language detector `eld`: ~29 MB of heap,
 * ~0.2 s; the USE lite vocabulary: ~5 MB) on the first question it reads, not when it is created: a router built from a
 * config with `cache.semantic` that never looks a question up (a CLI command, a process serving only tool calls) paid
 * the 34 MB for nothing. Real USE lite embedder and `eld` (the detector's import counted).
 */
import { describe, expect, it } from 'vitest';
import { LocalUseEmbedder } from '../embeddings/local-use-embedder.js';
import { UseLiteLanguageLoader, type LanguageDetector } from '../embeddings/use-lite-language.js';
import { useLiteInstalled } from '../embeddings/__fixtures__/use-lite-installed.js';
import type { GenerateRequest } from '../spec/index.js';
import { SemanticCache } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string, temperature = 0): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature });
/** Lets the event loop turn a few times (what a background start would have run by then). */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe.skipIf(!useLiteInstalled)('SemanticCache (USE lite): the language detector loads on the first question read', () => {
  it('creating a cache loads no detector; a skipped request neither; the first question read does, once', async () => {
    let imports = 0;
    const language = new UseLiteLanguageLoader(async () => {
      imports++;
      return ((await import('eld/extrasmall')) as { eld: LanguageDetector }).eld;
    });
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder({ language }) });
    try {
      await turns();
      expect(imports).toBe(0);
      // Not a question the cache reads (sampled above its maxTemperature): nothing to detect.
      expect(await cache.lookup(ask('How do I reverse a list in Python?', 1.5), scope)).toBeUndefined();
      await turns();
      expect(imports).toBe(0);
      expect(language.loaded).toBe(false);
      // The first question read waits for the detector: German is told from English on it already.
      expect(await cache.lookup(ask('Wie kann ich eine Datei in Python \u00f6ffnen?'), scope)).toBeUndefined();
      expect(imports).toBe(1);
      expect(language.loaded).toBe(true);
      expect(cache.stats).toMatchObject({ bypassed: 2, misses: 0 });
      expect(await cache.store(ask('How do I reverse a list in Python?'), scope, { text: 'reversed()', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 }, deployment: 'm1', model: 'mock-1', provider: 'mock' } as never)).toBe(true);
      expect((await cache.lookup(ask('how can i reverse a list in python'), scope))?.answer.text).toBe('reversed()');
      expect(imports).toBe(1);
    } finally {
      await cache.close();
    }
  }, 60_000);

  // The first question read waits for the detector (~0.3 s); an abort meanwhile was only seen once it had loaded.
  it('a lookup aborted while the first question waits for the detector rejects at once, aborted; the load goes on', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const language = new UseLiteLanguageLoader(async () => {
      await gate;
      return ((await import('eld/extrasmall')) as { eld: LanguageDetector }).eld;
    });
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder({ language }) });
    try {
      const controller = new AbortController();
      const lookup = cache.lookup(ask('How do I reverse a list in Python?'), scope, { signal: controller.signal });
      await turns();
      controller.abort();
      await expect(lookup).rejects.toMatchObject({ code: 'aborted' });
      // A signal aborted before the call rejects at once too (it waited for the whole load).
      await expect(cache.lookup(ask('How do I reverse a list in Python?'), scope, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
      expect(language.loaded).toBe(false);
      release();
      await language.ready();
      expect(language.loaded).toBe(true);
      expect(await cache.lookup(ask('How do I reverse a list in Python?'), scope)).toBeUndefined();
      expect(cache.stats).toMatchObject({ misses: 1 });
    } finally {
      release();
      await cache.close();
    }
  }, 60_000);
});
