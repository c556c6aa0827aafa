import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { agree, COUNT_BOUNDED, draws, hasProtoKey, junk, positiveInts, strings, viaJson } from '../test-support/fast-check-agreement.js';
import { isWellFormedEmbeddingRequest } from './check-openai-embeddings.js';
import { OpenAIEmbeddingRequestSchema } from './openai-embeddings.js';

/** Generated bodies (seeded, so a failure is reproducible); half nearly clean, half often broken. */
function generator(seed: number) {
  const { pick, chance, ok, field, obj, list, next } = draws(seed, { values: [{}, { input: 'x' }, null], rate: (junkRate) => (junkRate < 0.1 ? 0.01 : 0.05) });
  const ids: unknown[] = [0, 1, 9906, 2_147_483_647, 2_147_483_648, -1, 0.5, '1', null, -0];
  const tokenIds = (): unknown[] => list(() => (ok() ? pick([0, 1, 9906, 100_257, 2_147_483_647]) : pick(ids)), 5);
  const input = (): unknown => {
    switch (pick(['text', 'texts', 'ids', 'idLists', 'junk', 'long'] as const)) {
      case 'text':
        return pick(strings);
      case 'texts':
        return list(() => (ok() ? pick(strings) : pick([1, [1], null])), 4);
      case 'ids':
        return tokenIds();
      case 'idLists':
        return list(() => (ok() ? tokenIds() : pick(junk)), 4);
      case 'long':
        // At and past the counts: 8192 ids in one input, 2048 inputs.
        return pick([Array.from({ length: 8192 }, () => 7), Array.from({ length: 8193 }, () => 7), [Array.from({ length: 8193 }, () => 7)], Array.from({ length: 2048 }, () => 'x'), Array.from({ length: 2049 }, () => [1])]);
      default:
        return pick(junk);
    }
  };
  return (): Record<string, unknown> => {
    next();
    return obj({
      model: field(['text-embedding-3-small', 'mock', 'm'.repeat(256), 'm'.repeat(257), '', 'a\u0000b'], 0.03),
      input: chance(0.97) ? input() : undefined,
      encoding_format: field(['float', 'base64', 'binary', null]),
      dimensions: field([...positiveInts, 65_536, 65_537, null]),
      user: field([...strings, null]),
    });
  };
}

describe('isWellFormedEmbeddingRequest agrees with OpenAIEmbeddingRequestSchema', () => {
  it('on 5,000 generated bodies: accepts exactly what the schema returns unchanged (own keys included)', () => {
    const { accepted, refused } = agree(OpenAIEmbeddingRequestSchema, isWellFormedEmbeddingRequest, generator(20261128), 5_000, hasProtoKey);
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(2_000);
  }, COUNT_BOUNDED);

  it('a few MiB of token ids (LangChain sends its inputs so) is checked by the loop, and a bad id still gets the schema\'s error naming it', () => {
    const input = Array.from({ length: 100 }, () => Array.from({ length: 8000 }, (_, i) => (i * 7919) % 100_000));
    const body = viaJson({ model: 'text-embedding-3-small', input }) as Record<string, unknown>;
    expect(isWellFormedEmbeddingRequest(body)).toBe(true);
    expect(validateBody(OpenAIEmbeddingRequestSchema, body)).toBe(body);
    (input[57]![4321] as number) = -2;
    const bad = viaJson({ model: 'text-embedding-3-small', input });
    expect(isWellFormedEmbeddingRequest(bad)).toBe(false);
    expect(() => validateBody(OpenAIEmbeddingRequestSchema, bad)).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'input.57.4321' }));
  });
});
