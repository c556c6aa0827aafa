/**
 * The model guard's calls are bounded: `verify` asks for at most 3 tokens; `adapt` for at most the live request's
 * `maxTokens`, else the cached answer's output tokens with a margin (a quarter more, and 16).
 */
import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { adaptMaxTokens, createModelGuard, shownCachedQuestion } from './model-guard.js';
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

describe('the cached question in a model guard prompt', () => {
  const userText = (r: GenerateRequest) => r.messages.find((m) => m.role === 'user')!.content as string;

  it("shows a cached question longer than the live prompt cut to the prompt's UTF-8 bytes, ended with ...", async () => {
    const { asked, guard } = recording();
    const long = 'How tall is Mount Everest? '.repeat(50).trim();
    await guard.verify(input({ question: 'How tall is Everest?', cachedQuestion: long, promptBytes: 20 }));
    await guard.adapt(input({ question: 'How tall is Everest?', cachedQuestion: long, promptBytes: 20 }));
    expect(asked.map(userText)).toEqual([
      'New question: How tall is Everest?\nCached question: How tall is Mount...\nAnswer: Paris.',
      'New question: How tall is Everest?\nOriginal question: How tall is Mount...\nAnswer: Paris.',
    ]);
  });

  it('shows one no longer than the live prompt whole, and bounds by the live question without promptBytes', () => {
    expect(shownCachedQuestion({ question: 'q', cachedQuestion: 'What is the capital of France?', promptBytes: 30 })).toBe('What is the capital of France?');
    expect(shownCachedQuestion({ question: 'Capital of France?', cachedQuestion: 'What is the capital of France?' })).toBe('What is the cap...');
  });

  it('cuts at a character: a multi-byte character that would pass the bound is left out whole', () => {
    // 'e' with acute is 2 bytes, the emoji 4 (a surrogate pair): 8 bytes of room keep 5 for the text and 3 for '...'.
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'caf\u00e9 \u{1F600} ok?', promptBytes: 8 })).toBe('caf\u00e9...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: '\u{1F600}\u{1F600}\u{1F600}', promptBytes: 8 })).toBe('\u{1F600}...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'a long question', promptBytes: 2 })).toBe('');
  });
});
