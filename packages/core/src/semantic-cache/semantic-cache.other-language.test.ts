/**
 * Questions in other languages than English, stored questions read while the vocabulary could not be read, and
 * accented letters the vocabulary lacks ("naïve" against "naive"). Real
 * USE-lite embedder and language detector (`eld`). USE lite is an English model: it covers German, French and Spanish
 * with English word pieces, so unrelated questions in them scored up to 0.99 against each other
 * ("Wie kann ich eine Datei in Python öffnen?" / "... löschen?"): they were served each other's answers.
 */
import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/exact-cache.js';
import type { Embedder } from '../embeddings/embedder.js';
import { LocalUseEmbedder } from '../embeddings/local-use-embedder.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { TRANSLATED_PAIRS, UNRELATED_OTHER_LANGUAGE_PAIRS } from './__fixtures__/other-language-questions.js';
import { SemanticCache, type SemanticLookupDetails } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
const answer = (text: string): Omit<CachedAnswer, 'createdAt'> => ({ text, toolCalls: [], finishReason: 'stop', usage: makeUsage(7, 2), deployment: 'm1', model: 'mock-1', provider: 'mock' });

describe('SemanticCache (USE lite): questions in other languages', () => {
  it('never serves a German, French or Spanish question another question\'s answer: such a question is skipped (the exact cache serves it)', async () => {
    const use = new LocalUseEmbedder();
    const cache = new SemanticCache({ config: { enabled: true }, embedder: use });
    try {
      const served: string[] = [];
      const stored: string[] = [];
      for (const [i, p] of UNRELATED_OTHER_LANGUAGE_PAIRS.entries()) {
        const s = { ...scope, tenant: `t${i}` };
        if (await cache.store(ask(p.a), s, answer(`answer to ${p.a}`))) stored.push(p.a);
        const hit = await cache.lookup(ask(p.b), s);
        if (hit) served.push(`${p.b} <- ${hit.cachedQuestion}`);
      }
      expect({ served, stored }).toEqual({ served: [], stored: [] });
      expect(cache.stats).toMatchObject({ hits: 0, stores: 0, bypassed: 2 * UNRELATED_OTHER_LANGUAGE_PAIRS.length });
    } finally {
      await cache.close();
    }
  }, 120_000);

  it('an English question stored is not served for the same question in another language, and English paraphrases still are', async () => {
    const use = new LocalUseEmbedder();
    const cache = new SemanticCache({ config: { enabled: true }, embedder: use });
    try {
      const served: string[] = [];
      for (const [i, p] of TRANSLATED_PAIRS.entries()) {
        const s = { ...scope, tenant: `t${i}` };
        expect(await cache.store(ask(p.en), s, answer(`answer to ${p.en}`))).toBe(true);
        const hit = await cache.lookup(ask(p.other), s);
        if (hit) served.push(p.other);
      }
      expect(served).toEqual([]);
      expect((await cache.lookup(ask('how can i open a file in python'), { ...scope, tenant: 't0' }))?.answer.text).toBe('answer to How can I open a file in Python?');
    } finally {
      await cache.close();
    }
  }, 120_000);
});

/** local-use, whose vocabulary is "not readable" (coverage not known) until `known` is set. */
class FlakyVocabularyEmbedder implements Embedder {
  readonly id = 'local-use';
  readonly dimensions = 512;
  known = false;
  readonly #inner = new LocalUseEmbedder();
  coverage(text: string, cased?: string): ReturnType<LocalUseEmbedder['coverage']> {
    return this.known ? this.#inner.coverage(text, cased) : undefined;
  }
  prepare(): Promise<void> {
    return this.#inner.prepare();
  }
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    return this.#inner.embed(texts);
  }
}

describe('SemanticCache: a stored question read while the vocabulary could not be read', () => {
  // "What does the symbol mean in maths?" and the same naming ≤ are cosine 0.98: only the unknown-text rule tells them
  // apart. A reading taken while coverage was not known was remembered as "no unknown text" for the stored question,
  // so once the vocabulary could be read again it was still served for the question without the symbol.
  it('is read again once the vocabulary can be read: the unknown-text rule applies to it from then on', async () => {
    const embedder = new FlakyVocabularyEmbedder();
    const cache = new SemanticCache({ config: { enabled: true }, embedder });
    try {
      expect(await cache.store(ask('What does the symbol ≤ mean in maths?'), scope, answer('less than or equal to'))).toBe(true);
      // Not known: nothing compared (documented), the match is served.
      expect((await cache.lookup(ask('What does the symbol mean in maths?'), scope))?.answer.text).toBe('less than or equal to');
      embedder.known = true;
      const details: SemanticLookupDetails = {};
      expect(await cache.lookup(ask('What does the symbol mean in maths?'), scope, { details })).toBeUndefined();
      expect(details.outcome).toBe('mismatch');
      expect((await cache.lookup(ask('what does the symbol ≤ mean in maths'), scope))?.answer.text).toBe('less than or equal to');
    } finally {
      await cache.close();
    }
  }, 120_000);
});

describe('SemanticCache (USE lite): accented letters the vocabulary does not have', () => {
  // U+00EF (ï) is not in the USE lite vocabulary ("i" is): "naïve" had the unknown text "ï" that "naive" lacks, so the
  // two spellings of one question (cosine 0.90) never matched. Folded, the word is compared with the other's words.
  const cases: ReadonlyArray<{ stored: string; asked: string; served: boolean }> = [
    { stored: 'Is a naive Bayes classifier good for text?', asked: 'Is a naïve Bayes classifier good for text?', served: true },
    { stored: 'Is a naïve Bayes classifier good for text?', asked: 'Is a naive Bayes classifier good for text?', served: true },
    // Another word once folded: not the same question (both had the run "ï" before, and matched).
    { stored: 'Is a naïve Bayes classifier good for text?', asked: 'Is a naïf Bayes classifier good for text?', served: false },
    // Two letters the vocabulary does not have, folded to other letters: one vector, not one question.
    { stored: 'Who painted the Dvořák portrait?', asked: 'Who painted the Dvoťák portrait?', served: false },
    // A letter on its own is what the question is about: not folded.
    { stored: 'What does the letter i mean in this word?', asked: 'What does the letter ï mean in this word?', served: false },
  ];
  it.each(cases)('$asked for a stored "$stored": served $served', async ({ stored, asked, served }) => {
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    try {
      expect(await cache.store(ask(stored), scope, answer('the answer'))).toBe(true);
      const details: SemanticLookupDetails = {};
      const hit = await cache.lookup(ask(asked), scope, { details, threshold: 0.85 });
      expect({ served: hit !== undefined, cosine: (details.candidates?.[0]?.cosine ?? 0) >= 0.85 }).toEqual({ served, cosine: true });
    } finally {
      await cache.close();
    }
  }, 60_000);
});
