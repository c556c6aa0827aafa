/**
 * The model guard's calls are bounded: `verify` asks for at most 3 tokens; `adapt` for at most the live request's
 * `maxTokens`, else the cached answer's output tokens with a margin (a quarter more, and 16).
 */
import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { adaptMaxTokens, CACHED_QUESTION_FACTOR, createModelGuard, shownCachedQuestion } from './model-guard.js';
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
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

  it("shows a cached question longer than 1.5 times the live prompt cut to that many UTF-8 bytes, ended with ...", async () => {
    expect(CACHED_QUESTION_FACTOR).toBe(1.5);
    const { asked, guard } = recording();
    const long = 'How tall is Mount Everest? '.repeat(50).trim();
    // 20 bytes of prompt: 30 of room, 27 for the text and 3 for '...'.
    await guard.verify(input({ question: 'How tall is Everest?', cachedQuestion: long, promptBytes: 20 }));
    await guard.adapt(input({ question: 'How tall is Everest?', cachedQuestion: long, promptBytes: 20 }));
    expect(asked.map(userText)).toEqual([
      'New question: How tall is Everest?\nCached question: How tall is Mount Everest? ...\nAnswer: Paris.',
      'New question: How tall is Everest?\nOriginal question: How tall is Mount Everest? ...\nAnswer: Paris.',
    ]);
  });

  it('shows one up to 1.5 times the live prompt whole (a paraphrase longer than the prompt), and bounds by the live question without promptBytes', () => {
    // 30 bytes for a prompt of 20: whole (the bound at the prompt's own length cut a third of such matches).
    expect(shownCachedQuestion({ question: 'q', cachedQuestion: 'What is the capital of France?', promptBytes: 20 })).toBe('What is the capital of France?');
    expect(shownCachedQuestion({ question: 'q', cachedQuestion: 'What is the capital of France?', promptBytes: 19 })).toBe('What is the capital of Fr...');
    // 'Capital?' is 8 bytes: 12 of room.
    expect(shownCachedQuestion({ question: 'Capital?', cachedQuestion: 'What is the capital of France?' })).toBe('What is t...');
  });

  it('cuts at a character: a multi-byte character that would pass the bound is left out whole', () => {
    // 'e' with acute is 2 bytes, the emoji 4 (a surrogate pair): 5 bytes of prompt give 7 of room, 4 for the text.
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'caf\u00e9 \u{1F600} ok?', promptBytes: 5 })).toBe('caf...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: '\u{1F600}\u{1F600}\u{1F600}', promptBytes: 5 })).toBe('\u{1F600}...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'a long question', promptBytes: 1 })).toBe('');
  });

  it('cuts at a grapheme boundary: a combining accent, a flag, a ZWJ sequence stays whole or is left out whole', () => {
    // Code point cuts would show 'Cafe' (the accent dropped), one regional indicator of a flag, a family emoji ending
    // in a dangling zero-width joiner.
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'Cafe\u0301 au lait or espresso?', promptBytes: 5 })).toBe('Caf...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'Win? \u{1F1EB}\u{1F1F7} or \u{1F1E9}\u{1F1EA}', promptBytes: 8 })).toBe('Win? ...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'Win? \u{1F1EB}\u{1F1F7} or \u{1F1E9}\u{1F1EA}', promptBytes: 11 })).toBe('Win? \u{1F1EB}\u{1F1F7}...');
    expect(shownCachedQuestion({ question: 'x', cachedQuestion: 'Tickets: \u{1F469}\u200D\u{1F469}\u200D\u{1F467} family?', promptBytes: 14 })).toBe('Tickets: ...');
  });

  const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
  it.each([
    ['combining marks', 'Cafe\u0301 au lait, nai\u0308ve cre\u0300me bru\u0302le\u0301e, or espresso?'],
    ['flags (regional indicator pairs)', '\u{1F1EB}\u{1F1F7} or \u{1F1E9}\u{1F1EA} or \u{1F1EF}\u{1F1F5}: which team won?'],
    ['ZWJ sequences and skin tones', '\u{1F469}\u200D\u{1F469}\u200D\u{1F467} and \u{1F44D}\u{1F3FD} family tickets \u{1F3F3}\uFE0F\u200D\u{1F308}?'],
    ['Hangul jamo and Devanagari', '\u1100\u1161\u11A8 \u0915\u094D\u0937 \u0928\u092E\u0938\u094D\u0924\u0947 question?'],
  ])('every bound on %s ends the shown text on a grapheme boundary, within the bound', (_name, cachedQuestion) => {
    const boundaries = new Set([0, ...[...segmenter.segment(cachedQuestion)].map((g) => g.index + g.segment.length)]);
    for (let promptBytes = 2; bytes(cachedQuestion) > Math.floor(1.5 * promptBytes); promptBytes++) {
      const shown = shownCachedQuestion({ question: 'x', cachedQuestion, promptBytes });
      expect(shown.endsWith('...'), `${promptBytes}: ${JSON.stringify(shown)}`).toBe(true);
      const kept = shown.slice(0, -3);
      expect(cachedQuestion.startsWith(kept) && boundaries.has(kept.length), `${promptBytes}: ${JSON.stringify(shown)}`).toBe(true);
      expect(bytes(shown)).toBeLessThanOrEqual(Math.floor(1.5 * promptBytes));
    }
  });
});
