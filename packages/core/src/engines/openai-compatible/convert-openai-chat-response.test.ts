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
  choice({ content: 'hi' }, { logprobs: { content: [{ token: 'hi', logprob: -0.5, bytes: [104, 105], top_logprobs: [{ token: 'hi', logprob: -0.5, bytes: [104, 105] }, { token: 'ho', logprob: -9999, bytes: null }] }], refusal: null } }),
  choice({ content: 'hi' }, { logprobs: { content: [{ token: 'hi', logprob: 0, top_logprobs: [] }] } }),
  choice({ content: null, refusal: 'no' }, { logprobs: { content: null, refusal: [{ token: 'no', logprob: -1 }] } }),
  choice({ content: 'hi' }, { logprobs: {} }),
  // A malformed logprobs never fails the answer (read on its own, only when asked: then none).
  choice({ content: 'hi' }, { logprobs: 'x' }),
  choice({ content: 'hi' }, { logprobs: { content: [{ token: 'hi' }] } }),
  choice({ content: 'hi' }, { logprobs: { content: [{ token: 'hi', logprob: -1, top_logprobs: [{ token: null, logprob: -1 }] }] } }),
  '{"choices":[{"message":{"content":"hi"},"logprobs":{"content":[{"token":"hi","logprob":-1,"bytes":[1e400]}]}}]}',
  // content as a list (Mistral's reasoning models)
  choice({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'Hm.' }], closed: true }, { type: 'text', text: 'Hi' }] }),
  choice({ content: [{ type: 'thinking', thinking: [{ type: 'reference', reference_ids: [1] }] }, { type: 'text', text: 'Hi' }, { type: 'text', text: '!' }] }),
  choice({ content: [], refusal: 'no' }),
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
  choice({ content: [{ type: 'text', text: 7 }] }),
  choice({ content: [{ type: 'thinking', thinking: 'Hm.' }] }),
  choice({ content: [{ type: 'thinking', thinking: [{ text: [] }] }] }),
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

describe('convertOpenAIChatResponse: logprobs', () => {
  it('returns logprobs.content as TokenLogprob[]: bytes and topLogprobs only where sent; refusal tokens left out', () => {
    const read = (text: string, asked = true) => {
      const r = readOpenAIChatResponse(JSON.parse(text));
      if (!r.ok) throw new Error(r.issue);
      return convertOpenAIChatResponse(r.response, () => 1, asked);
    };
    expect(read(samples[14]!).logprobs).toEqual([
      { token: 'hi', logprob: -0.5, bytes: [104, 105], topLogprobs: [{ token: 'hi', logprob: -0.5, bytes: [104, 105] }, { token: 'ho', logprob: -9999 }] },
    ]);
    expect(read(samples[15]!).logprobs).toEqual([{ token: 'hi', logprob: 0 }]);
    // The refusal is kept apart from the (absent) content.
    expect(read(samples[16]!)).toMatchObject({ text: '', refusal: 'no' });
    expect(read(samples[16]!).logprobs).toBeUndefined();
    expect(read(samples[17]!).logprobs).toBeUndefined();
    expect(read(JSON.stringify(answer)).logprobs).toBeUndefined();
    // Not asked for: not read.
    expect(read(samples[14]!, false).logprobs).toBeUndefined();
  });

  it('an empty logprobs.content gives none (as a stream does), not an empty list', () => {
    const r = readOpenAIChatResponse(JSON.parse(choice({ content: 'hi' }, { logprobs: { content: [] } })));
    expect(r.ok && convertOpenAIChatResponse(r.response, () => 1, true).logprobs).toBeUndefined();
  });

  it('a malformed logprobs: the answer still comes, without logprobs, asked for or not', () => {
    for (const text of samples.slice(18, 22)) {
      const r = readOpenAIChatResponse(JSON.parse(text));
      expect(r.ok).toBe(true);
      for (const asked of [true, false]) {
        const result = r.ok ? convertOpenAIChatResponse(r.response, () => 1, asked) : undefined;
        expect(result).toMatchObject({ text: 'hi' });
        expect(result?.logprobs).toBeUndefined();
      }
    }
  });

  it('with reasoning (a reasoning parser lists its tokens first): only the trailing tokens that are the text, else none', () => {
    const lp = (token: string) => ({ token, logprob: -1 });
    const convert = (message: object, tokens: string[]) => {
      const r = readOpenAIChatResponse(JSON.parse(choice(message, { logprobs: { content: tokens.map(lp) } })));
      if (!r.ok) throw new Error(r.issue);
      return convertOpenAIChatResponse(r.response, () => 1, true).logprobs;
    };
    expect(convert({ reasoning_content: 'Hm.', content: 'Hi!' }, ['<think>', 'Hm', '.', '</think>', 'Hi', '!'])).toEqual([lp('Hi'), lp('!')]);
    expect(convert({ reasoning: 'Hm.', content: 'Hi!' }, ['Hm', '.', 'Hi', '!'])).toEqual([lp('Hi'), lp('!')]);
    // No run of trailing tokens makes the text exactly: none rather than reasoning tokens.
    expect(convert({ reasoning_content: 'Hm.', content: 'Hi!' }, ['Hm', '.', 'H', 'i!?'])).toBeUndefined();
    expect(convert({ reasoning_content: 'Hm.', content: '' }, ['Hm', '.'])).toBeUndefined();
    // Without reasoning every token is the answer's, even when their texts are not the text (bytes of a character).
    expect(convert({ content: 'Hi' }, ['bytes:\\xe2', 'Hi'])).toEqual([lp('bytes:\\xe2'), lp('Hi')]);
  });
});

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
        expect(convertOpenAIChatResponse(read.response, () => 9, true)).toEqual(convertOpenAIChatResponse(schema.data, () => 9, true));
      } else if (!read.ok && !schema.success) {
        expect(read.issue).toBe(schema.error.issues[0]?.message);
      }
    }
    expect(accepted).toBe(25);
  });

  it('reads a content list: its text items as the text, the text of its thinking items as the reasoning', () => {
    const read = (text: string) => {
      const r = readOpenAIChatResponse(JSON.parse(text));
      if (!r.ok) throw new Error(r.issue);
      return convertOpenAIChatResponse(r.response, () => 1);
    };
    expect(read(samples[22]!)).toMatchObject({ text: 'Hi', reasoning: 'Hm.' });
    expect(read(samples[23]!)).toMatchObject({ text: 'Hi!' });
    expect(read(samples[23]!).reasoning).toBeUndefined();
    // No text item: no content, and the refusal apart, as for a null content.
    expect(read(samples[24]!)).toMatchObject({ text: '', refusal: 'no' });
  });

  it('names the schema issue of a refused answer', () => {
    const read = readOpenAIChatResponse(JSON.parse(choice({ content: 7 })));
    expect(read).toMatchObject({ ok: false });
    expect(read.ok ? '' : read.issue).toMatch(/string/i);
  });
});

describe('convertOpenAIChatResponse: tool call ids', () => {
  it('a call without an id, or with "" (which a client could not answer), gets call_<response id>_<index>, as streamed', () => {
    const read = (text: string) => {
      const r = readOpenAIChatResponse(JSON.parse(text));
      if (!r.ok) throw new Error(r.issue);
      return convertOpenAIChatResponse(r.response, () => 1).toolCalls.map((c) => c.id);
    };
    const calls = [call, { ...call, id: '' }, { ...call, id: null }, { function: call.function }];
    expect(read(choice({ content: null, tool_calls: calls }))).toEqual(['call_1', 'call_chatcmpl-1_1', 'call_chatcmpl-1_2', 'call_chatcmpl-1_3']);
    expect(read(JSON.stringify({ ...answer, id: '', choices: [{ index: 0, message: { content: null, tool_calls: [{ ...call, id: '' }] }, finish_reason: 'tool_calls' }] }))).toEqual(['call_response_0']);
  });
});
