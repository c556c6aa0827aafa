import { describe, expect, it } from 'vitest';
import { estimateRequestTokens } from '../../pricing/estimate-tokens.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { estimateGeminiTokens, estimateTextTokens } from './estimate-gemini-tokens.js';

describe('estimateGeminiTokens', () => {
  it('adds one 258-token tile per image to the shared estimate; embedding inputs count their text only', () => {
    const picture: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image', url: 'https://example.com/a.png' }] }] };
    expect(estimateGeminiTokens(picture)).toBe(estimateRequestTokens(picture) - 85 + 258);
    expect(estimateGeminiTokens({ messages: [{ role: 'user', content: 'abcd'.repeat(100) }] })).toBe(100 + 4 + 3);
    expect(estimateTextTokens(['abcd', 'abcdefgh', ''])).toBe(3);
  });
});
