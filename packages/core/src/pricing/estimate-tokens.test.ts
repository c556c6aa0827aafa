import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { TOKENS_PER_IMAGE, TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, TOKENS_PER_TOOL, estimateRequestTokens, estimateTokens } from './estimate-tokens.js';

describe('estimateTokens', () => {
  it('is 0 for empty text', () => {
    expect(estimateTokens('')).toBe(0);
  });

  it('counts ~4 characters per token for Latin text, rounding up', () => {
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('The quick brown fox jumps over the lazy dog.')).toBe(11); // 44 chars
  });

  it('counts CJK characters as one token each', () => {
    expect(estimateTokens('你好世界')).toBe(4);
    expect(estimateTokens('こんにちは')).toBe(5);
    expect(estimateTokens('カタカナ')).toBe(4);
    expect(estimateTokens('안녕하세요')).toBe(5);
    // Mixed: 2 Han + 8 Latin chars (incl. space) -> 2 + 2.
    expect(estimateTokens('你好 hello!')).toBe(2 + 2);
  });

  it('grows linearly, so long prompts are not underestimated', () => {
    expect(estimateTokens('a'.repeat(40_000))).toBe(10_000);
    expect(estimateTokens('字'.repeat(10_000))).toBe(10_000);
  });
});

describe('estimateRequestTokens', () => {
  it('adds per-message framing and reply priming', () => {
    const req: GenerateRequest = { messages: [{ role: 'system', content: 'abcd' }, { role: 'user', content: 'abcdefgh' }] };
    expect(estimateRequestTokens(req)).toBe(TOKENS_PER_REPLY + (TOKENS_PER_MESSAGE + 1) + (TOKENS_PER_MESSAGE + 2));
  });

  it('counts text parts, images, tool calls and tool results', () => {
    const req: GenerateRequest = {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'abcd' }, { type: 'image', url: 'https://x/y.png' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'abcd', arguments: '{"a":1}' }] },
        { role: 'tool', toolCallId: 'c1', content: 'abcdabcd' },
      ],
    };
    const expected =
      TOKENS_PER_REPLY +
      (TOKENS_PER_MESSAGE + 1 + TOKENS_PER_IMAGE) +
      (TOKENS_PER_MESSAGE + TOKENS_PER_MESSAGE + 1 + 2) +
      (TOKENS_PER_MESSAGE + 2);
    expect(estimateRequestTokens(req)).toBe(expected);
  });

  it("counts a tool result's images (its parts' text is its content)", () => {
    const tool = (parts?: Extract<GenerateRequest['messages'][number], { role: 'tool' }>['parts']): GenerateRequest => ({
      messages: [{ role: 'tool', toolCallId: 'c1', content: 'abcd', ...(parts ? { parts } : {}) }],
    });
    const image = { type: 'image' as const, url: 'https://x/y.png' };
    expect(estimateRequestTokens(tool([{ type: 'text', text: 'abcd' }, image, image])) - estimateRequestTokens(tool())).toBe(2 * TOKENS_PER_IMAGE);
    expect(estimateRequestTokens(tool([{ type: 'text', text: 'abcd' }]))).toBe(estimateRequestTokens(tool()));
  });

  it('counts tool definitions and a JSON schema response format', () => {
    const base: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }] };
    const withTools: GenerateRequest = {
      ...base,
      tools: [{ name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    };
    const toolJson = JSON.stringify({ name: 'get_weather', description: 'Weather for a city', parameters: withTools.tools?.[0]?.parameters });
    expect(estimateRequestTokens(withTools) - estimateRequestTokens(base)).toBe(TOKENS_PER_TOOL + estimateTokens(toolJson));
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    const withSchema: GenerateRequest = { ...base, responseFormat: { type: 'json_schema', schema } };
    expect(estimateRequestTokens(withSchema) - estimateRequestTokens(base)).toBe(estimateTokens(JSON.stringify(schema)));
  });
});
