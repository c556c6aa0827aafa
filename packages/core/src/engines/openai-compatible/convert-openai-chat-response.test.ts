import { describe, expect, it } from 'vitest';
import { convertOpenAIChatResponse, readOpenAIChatResponse } from './convert-openai-chat-response.js';
import { OpenAIChatResponseSchema } from './openai-wire-schemas.js';

const answer = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};
const choice = (message: unknown, extra: object = {}) => JSON.stringify({ ...answer, choices: [{ index: 0, message, finish_reason: 'stop', ...extra }] });
const call = { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } };

/** Answers (as JSON text, so numbers like 1e400 arrive as JSON.parse makes them) the schema accepts or refuses. */
const samples: string[] = [
  JSON.stringify(answer),
  JSON.stringify({ choices: [{ message: {} }] }),
  JSON.stringify({ ...answer, id: null, model: null, usage: null }),
  JSON.stringify({ ...answer, usage: undefined }),
  JSON.stringify({ ...answer, usage: {} }),
  JSON.stringify({ ...answer, usage: { prompt_tokens: 1, prompt_tokens_details: { cached_tokens: 1 }, completion_tokens_details: { reasoning_tokens: 2 }, prompt_cache_hit_tokens: 1 } }),
  JSON.stringify({ ...answer, usage: { prompt_tokens: null, prompt_tokens_details: null, completion_tokens_details: {} } }),
  choice({ content: null, refusal: 'no' }),
  choice({ content: 'a', reasoning_content: 'r', reasoning: null }),
  choice({ content: null, tool_calls: [call, { function: { name: 'g' } }, { id: null, type: null, function: { name: 'h', arguments: null } }] }),
  choice({ content: 'x', tool_calls: null }),
  choice({ content: 'x', tool_calls: [] }),
  choice({ content: 'x' }, { finish_reason: null }),
  JSON.stringify({ ...answer, choices: [answer.choices[0], { message: { content: 'second' } }] }),
  // refused by the schema
  '[]',
  'null',
  '"text"',
  '7',
  JSON.stringify({}),
  JSON.stringify({ ...answer, choices: [] }),
  JSON.stringify({ ...answer, choices: null }),
  JSON.stringify({ ...answer, choices: {} }),
  JSON.stringify({ ...answer, choices: [null] }),
  JSON.stringify({ ...answer, choices: [[]] }),
  JSON.stringify({ ...answer, choices: [{ finish_reason: 'stop' }] }),
  JSON.stringify({ ...answer, choices: [answer.choices[0], { message: null }] }),
  JSON.stringify({ ...answer, id: 5 }),
  JSON.stringify({ ...answer, model: {} }),
  choice([]),
  choice('hi'),
  choice({ content: 7 }),
  choice({ content: ['a'] }),
  choice({ reasoning_content: false }),
  choice({ reasoning: 1 }),
  choice({ refusal: {} }),
  choice({ content: 'x' }, { finish_reason: 1 }),
  choice({ tool_calls: {} }),
  choice({ tool_calls: [null] }),
  choice({ tool_calls: [{ id: 'x' }] }),
  choice({ tool_calls: [{ function: { arguments: '{}' } }] }),
  choice({ tool_calls: [{ function: { name: 1 } }] }),
  choice({ tool_calls: [{ function: { name: 'f', arguments: {} } }] }),
  choice({ tool_calls: [{ id: 1, function: { name: 'f' } }] }),
  choice({ tool_calls: [{ type: 1, function: { name: 'f' } }] }),
  choice({ tool_calls: [{ function: [] }] }),
  JSON.stringify({ ...answer, usage: 'lots' }),
  JSON.stringify({ ...answer, usage: [] }),
  JSON.stringify({ ...answer, usage: { prompt_tokens: '3' } }),
  JSON.stringify({ ...answer, usage: { completion_tokens: true } }),
  JSON.stringify({ ...answer, usage: { total_tokens: [] } }),
  JSON.stringify({ ...answer, usage: { prompt_cache_hit_tokens: 'x' } }),
  JSON.stringify({ ...answer, usage: { prompt_tokens_details: 1 } }),
  JSON.stringify({ ...answer, usage: { prompt_tokens_details: { cached_tokens: 'x' } } }),
  JSON.stringify({ ...answer, usage: { completion_tokens_details: [] } }),
  JSON.stringify({ ...answer, usage: { completion_tokens_details: { reasoning_tokens: {} } } }),
  '{"choices":[{"message":{}}],"usage":{"prompt_tokens":1e400}}',
  '{"choices":[{"message":{}}],"usage":{"prompt_tokens_details":{"cached_tokens":-1e400}}}',
];

describe('readOpenAIChatResponse', () => {
  it('accepts and refuses exactly what OpenAIChatResponseSchema does, and converts to the same result', () => {
    let accepted = 0;
    for (const text of samples) {
      const value: unknown = JSON.parse(text);
      const schema = OpenAIChatResponseSchema.safeParse(value);
      const read = readOpenAIChatResponse(value);
      expect({ text, ok: read.ok }).toEqual({ text, ok: schema.success });
      if (read.ok && schema.success) {
        accepted++;
        expect(convertOpenAIChatResponse(read.response, () => 9)).toEqual(convertOpenAIChatResponse(schema.data, () => 9));
      } else if (!read.ok && !schema.success) {
        expect(read.issue).toBe(schema.error.issues[0]?.message);
      }
    }
    expect(accepted).toBe(14);
  });

  it('names the schema issue of a refused answer', () => {
    const read = readOpenAIChatResponse(JSON.parse(choice({ content: 7 })));
    expect(read).toMatchObject({ ok: false });
    expect(read.ok ? '' : read.issue).toMatch(/string/i);
  });
});
