/**
 * Reasoning chunks read through a learned template:
 * - the reasoning template is learned from the reasoning chunks Ollama, OpenRouter and Go-written proxies send
 *   (`"content":""` beside `reasoning` / `reasoning_content`), as the full path reads `""` there as it reads null;
 * - a content chunk read through its template clears `beforeAnswer` as the full path does, so a later logprobs-only
 *   chunk keeps its tokens.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StreamPart } from '../../spec/index.js';
import { OpenAIStreamDecoder } from './openai-stream-decoder.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const envelope = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1754123456, model: 'qwen3:8b', system_fingerprint: 'fp_ollama' };
const chunk = (delta: object, extra: object = {}) => JSON.stringify({ ...envelope, choices: [{ index: 0, delta, finish_reason: null, ...extra }] });

function decodeAll(events: string[], logprobs = false): StreamPart[] {
  const decoder = new OpenAIStreamDecoder({ provider: 'ollama', estimateInputTokens: () => 5, logprobs });
  return [...events.flatMap((e) => decoder.decode(e)), ...decoder.end()];
}

describe('reasoning chunks with "content":"" beside the reasoning', () => {
  // Ollama's /v1/chat/completions: {"delta":{"content":"","reasoning":"We"}} (dirac-run/dirac#227, QwenLM/Qwen-Agent#792);
  // OpenRouter: {"delta":{"role":"assistant","content":"","reasoning":"...","reasoning_details":[]}} (huggingface/responses.js#19);
  // proxies written in Go with `Content string json:"content"` write "" beside reasoning_content.
  const shapes = [
    ['reasoning', (t: string) => chunk({ content: '', reasoning: t })],
    ['reasoning with reasoning_details: []', (t: string) => chunk({ content: '', reasoning: t, reasoning_details: [] })],
    ['reasoning_content', (t: string) => chunk({ content: '', reasoning_content: t })],
  ] as const;
  const thinking = Array.from({ length: 40 }, (_, i) => ` step${i}`);

  it.each(shapes)('the full path reads `content: ""` there as it reads `content: null` (%s)', (_, make) => {
    const withEmpty = [chunk({ role: 'assistant', content: '' }), ...thinking.map(make), chunk({ content: 'Done.' }), '[DONE]'];
    const withNull = withEmpty.map((e) => e.replace('"content":"","reason', '"content":null,"reason'));
    expect(withNull).not.toEqual(withEmpty);
    expect(decodeAll(withEmpty)).toEqual(decodeAll(withNull));
  });

  it.each(shapes)('are read through the reasoning template once learned, as DeepSeek\'s are (%s)', (_, make) => {
    const events = [chunk({ role: 'assistant', content: '' }), ...thinking.map(make), chunk({ content: 'Done.' }), '[DONE]'];
    const parse = vi.spyOn(JSON, 'parse');
    const parts = decodeAll(events);
    expect(parts.filter((p) => p.type === 'reasoning-delta').map((p) => (p as { delta: string }).delta).join('')).toBe(thinking.join(''));
    // The role chunk, the first reasoning chunks (learned from, the literal checked once more), the answer: a handful of
    // JSON.parse calls, not one per reasoning chunk. Actual: 40 reasoning chunks, every one parsed (42+ calls).
    expect(parse.mock.calls.length).toBeLessThanOrEqual(8);
  });
});

describe('beforeAnswer after a content chunk read through its template', () => {
  it('a logprobs-only chunk after reasoning and then templated answer text gets its tokens, as on the full path', () => {
    const tokens = { content: [{ token: ' x', logprob: -0.25, bytes: [32, 120], top_logprobs: [] }], refusal: null };
    const events = [
      chunk({ content: 'A' }, { logprobs: null }), // learns the content template
      chunk({ content: null, reasoning_content: 'think' }, { logprobs: null }), // full path: beforeAnswer = true
      chunk({ content: 'B' }, { logprobs: null }), // read through the template: beforeAnswer should be false again
      chunk({}, { logprobs: tokens }), // tokens without text of their own, after answer text: the answer's
      '[DONE]',
    ];
    const fast = decodeAll(events, true);
    // The full path: the same chunks, the third with one more key (`refusal: null`, read as absent), which the
    // content template does not match.
    const full = decodeAll([events[0]!, events[1]!, chunk({ content: 'B', refusal: null }, { logprobs: null }), events[3]!, events[4]!], true);
    expect(full.some((p) => p.type === 'logprobs')).toBe(true);
    expect(fast).toEqual(full);
  });
});
