import { describe, expect, it } from 'vitest';
import { estimateRequestTokens } from '../../pricing/estimate-tokens.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { estimateAnthropicTokens } from './estimate-anthropic-tokens.js';

describe('estimateAnthropicTokens', () => {
  it('is the shared estimate for text and tools, with each image at Anthropic\'s ~1,600-token cap', () => {
    const text: GenerateRequest = { messages: [{ role: 'user', content: 'x'.repeat(400) }], tools: [{ name: 'f', parameters: { type: 'object' } }] };
    expect(estimateAnthropicTokens(text)).toBe(estimateRequestTokens(text));
    const image = { type: 'image' as const, url: 'https://example.com/a.png' };
    const twoImages: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'compare' }, image, image] }] };
    expect(estimateAnthropicTokens(twoImages) - estimateAnthropicTokens({ messages: [{ role: 'user', content: [{ type: 'text', text: 'compare' }] }] })).toBe(3_200);
  });
});
