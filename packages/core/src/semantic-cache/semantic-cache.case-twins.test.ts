/**
 * Case twins: the question is embedded lower-cased and the trigram re-ranking is case-blind, so "Open README.md" and
 * "open readme.md" tie; the stored question worded exactly as asked wins the tie (its tool-call answer, which only the
 * same wording may get, is served). Real USE-lite embedder.
 */
import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { LocalUseEmbedder } from '../embeddings/local-use-embedder.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { SemanticCache } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
const answer = (text: string): Omit<CachedAnswer, 'createdAt'> => ({ text, toolCalls: [], finishReason: 'stop', usage: makeUsage(7, 2), deployment: 'm1', model: 'mock-1', provider: 'mock' });

describe('SemanticCache (USE lite): case twins with tool-call answers', () => {
  // Both stored in one namespace; each question asked again exactly as stored must get its own answer. Lower-cased,
  // the two are one vector and the same trigrams: a tie, resolved by store order, so one of them picks its twin, the
  // tool-call rule (case kept) refuses it, and the exact repeat is a miss. As asked, each was its own nearest (cosine 1).
  it('a question asked exactly as stored gets its own tool-call answer, even with a case twin stored', async () => {
    const use = new LocalUseEmbedder();
    const c = new SemanticCache({ config: { enabled: true }, embedder: use });
    const call = (path: string): Omit<CachedAnswer, 'createdAt'> => ({ ...answer(''), finishReason: 'tool-calls', toolCalls: [{ id: 'c1', name: 'read_file', arguments: JSON.stringify({ path }) }] });
    try {
      expect(await c.store(ask('Open README.md'), scope, call('README.md'))).toBe(true);
      expect(await c.store(ask('open readme.md'), scope, call('readme.md'))).toBe(true);
      const upper = await c.lookup(ask('Open README.md'), scope);
      const lower = await c.lookup(ask('open readme.md'), scope);
      expect({ upper: upper?.answer.toolCalls[0]?.arguments, lower: lower?.answer.toolCalls[0]?.arguments }).toEqual({
        upper: '{"path":"README.md"}',
        lower: '{"path":"readme.md"}',
      });
    } finally {
      await c.close();
    }
  }, 60_000);
});
