/**
 * The model guard's calls are bounded: `verify` asks for at most 3 tokens; `adapt` for at most the live request's
 * `maxTokens`, else the cached answer's output tokens with a margin (a quarter more, and 16).
 */
import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { adaptMaxTokens, createModelGuard } from './model-guard.js';
import type { SemanticGuardInput } from './semantic-cache.js';

const answer = { text: 'Paris.', toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(10, 40), deployment: 'm', model: 'm', provider: 'mock', createdAt: 0 };
const input = (extra: Partial<SemanticGuardInput> = {}): SemanticGuardInput => ({ question: 'Capital of France?', cachedQuestion: 'What is the capital of France?', answer, score: 0.9, ...extra });

function recording() {
  const asked: GenerateRequest[] = [];
  const guard = createModelGuard(async (request) => {
    asked.push(request);
    return { text: 'YES' };
  });
  return { asked, guard };
}

describe('model guard output caps', () => {
  it('verify asks for at most 3 tokens', async () => {
    const { asked, guard } = recording();
    await guard.verify(input({ maxTokens: 500 }));
    expect(asked.map((r) => r.maxTokens)).toEqual([3]);
  });

  it("adapt asks for at most the live request's maxTokens, else the cached answer's output tokens with a margin", async () => {
    const { asked, guard } = recording();
    await guard.adapt(input({ maxTokens: 120 }));
    await guard.adapt(input());
    expect(asked.map((r) => r.maxTokens)).toEqual([120, Math.ceil(40 * 1.25) + 16]);
    expect(adaptMaxTokens({ answer: { ...answer, usage: makeUsage(10, 0) } })).toBe(16);
  });
});
