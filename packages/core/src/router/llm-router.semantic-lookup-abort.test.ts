/**
 * With the semantic cache embedding through a deployment (`embedder: <deployment>`), a call waiting on the cache
 * lookup ends with the caller's abort: `BatchingEmbedder.embed` passes the signal on (a caller's abort rejects its
 * own call at once), so with a stalled embedder `generate(..., { signal })` settles after the abort (also with a
 * signal aborted before the call) and a stream ends (README: a wait on "a cache lookup ... (a semantic cache's ...
 * embedding ...) ends with" the abort).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';

const servers: OpenAIWireServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function stalledEmbedderRouter(): Promise<{ router: LLMRouter; embedder: OpenAIWireServer }> {
  const embedder = await startOpenAIWireServer({ script: { hang: true } });
  servers.push(embedder);
  const router = new LLMRouter({
    models: [
      { name: 'chat', engine: 'mock' },
      { name: 'emb', engine: 'openai-compatible', baseURL: embedder.baseURL, model: 'text-embedding-test', apiKey: 'k', capabilities: ['embeddings'] },
    ],
    cache: { semantic: { enabled: true, embedder: 'emb', store: { type: 'memory' } } },
  });
  return { router, embedder };
}

/** The outcome of `p`, or 'pending' after `ms` (a hang guard, not a timing assertion). */
function outcome(p: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    p.then(() => 'resolved', (e: unknown) => `rejected:${(e as { code?: string }).code}`),
    new Promise<string>((r) => setTimeout(() => r('pending'), ms)),
  ]);
}

describe('caller abort during a semantic-cache lookup', () => {
  it('generate: an abort ends the call with aborted', { timeout: 30_000 }, async () => {
    const { router, embedder } = await stalledEmbedderRouter();
    try {
      const ac = new AbortController();
      const call = router.generate('What is a CRDT?', { model: 'chat', signal: ac.signal });
      await expect.poll(() => embedder.requests.length, { timeout: 10_000 }).toBe(1);
      ac.abort();
      // Expected: 'rejected:aborted'. Actual: 'pending' (for as long as the embedder stalls).
      expect(await outcome(call, 5000)).toBe('rejected:aborted');
    } finally {
      await router.close();
    }
  });

  it('generate: a signal aborted before the call is refused at once', { timeout: 30_000 }, async () => {
    const { router } = await stalledEmbedderRouter();
    try {
      // Expected: 'rejected:aborted'. Actual: 'pending'.
      expect(await outcome(router.generate('What is a CRDT?', { model: 'chat', signal: AbortSignal.abort() }), 5000)).toBe('rejected:aborted');
    } finally {
      await router.close();
    }
  });

  it('stream: an abort of the caller signal ends the stream with an aborted error part', { timeout: 30_000 }, async () => {
    const { router, embedder } = await stalledEmbedderRouter();
    try {
      const ac = new AbortController();
      const stream = router.stream('What is a CRDT?', { model: 'chat', signal: ac.signal });
      const parts: string[] = [];
      const consumed = (async () => {
        for await (const p of stream) parts.push(p.type === 'error' ? `error:${p.error.code}` : p.type);
      })();
      await expect.poll(() => embedder.requests.length, { timeout: 10_000 }).toBe(1);
      ac.abort();
      // Expected: the loop ends, last part error:aborted. Actual: 'pending'.
      expect(await outcome(consumed, 5000)).toBe('resolved');
      expect(parts.at(-1)).toBe('error:aborted');
    } finally {
      await router.close();
    }
  });
});
