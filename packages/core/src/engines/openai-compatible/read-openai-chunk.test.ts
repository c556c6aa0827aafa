import { describe, expect, it } from 'vitest';
import { convertOpenAIUsage } from './convert-openai-usage.js';
import { isOpenAIChoiceLogprobs } from './is-openai-choice-logprobs.js';
import { OpenAIChatChunkSchema, OpenAIChoiceLogprobsSchema, type OpenAIContentPart } from './openai-wire-schemas.js';
import { readOpenAIChunk } from './read-openai-chunk.js';
import { readOpenAIContentParts } from './read-openai-content-parts.js';

const content = { id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null, logprobs: null }] };

/** Chunks (as JSON text, so numbers like 1e400 arrive as JSON.parse makes them) the schema accepts or refuses. */
const samples: string[] = [
  JSON.stringify(content),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
  JSON.stringify({ ...content, choices: [] }),
  JSON.stringify({ ...content, choices: null }),
  JSON.stringify({ id: null, model: null }),
  JSON.stringify({}),
  JSON.stringify({ ...content, choices: [{ delta: { reasoning_content: 'r' } }] }),
  JSON.stringify({ ...content, choices: [{ delta: { reasoning: 'r', refusal: null } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: null }] }),
  JSON.stringify({ ...content, usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, choices: [] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'x', function: { name: 'f', arguments: '' } }] } }] }),
  JSON.stringify({ error: { message: 'boom', code: 500 } }),
  // usage (the last chunk of a stream with stream_options.include_usage), read by hand too
  JSON.stringify({ ...content, choices: [], usage: { prompt_tokens: 12, completion_tokens: 16, total_tokens: 28, prompt_tokens_details: { cached_tokens: 2, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 3, accepted_prediction_tokens: 0 } } }),
  JSON.stringify({ ...content, choices: [], usage: { prompt_tokens: null, total_tokens: 0, prompt_tokens_details: null, completion_tokens_details: null, prompt_cache_hit_tokens: 4 } }),
  JSON.stringify({ ...content, choices: [], usage: { prompt_tokens_details: { cache_write_tokens: 5, cached_tokens: null }, completion_tokens_details: {}, extra: 'kept' } }),
  JSON.stringify({ ...content, usage: {} }),
  JSON.stringify({ ...content, usage: null }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: -1, completion_tokens: 0.5 } }),
  // logprobs (the decoder reads choices[].logprobs.content)
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -0.1, bytes: [104, 105], top_logprobs: [] }], refusal: null } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -0.1, bytes: null, top_logprobs: [{ token: 'hi', logprob: -0.1, bytes: [104, 105] }, { token: 'ho', logprob: -9999 }] }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: 0 }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: null, refusal: [{ token: 'no', logprob: -1 }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: {} }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { refusal: 'no' }, logprobs: { content: null, refusal: 'anything: not read' } }] }),
  // a malformed logprobs: the chunk is still read (logprobs are read on their own, only when asked)
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: 'x' }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: [] }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: {} } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [null] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ logprob: -1 }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: '-1' }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi' }] } }] }),
  '{"choices":[{"index":0,"delta":{"content":"hi"},"logprobs":{"content":[{"token":"hi","logprob":-1e400}]}}]}',
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -1, bytes: 'x' }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -1, bytes: [1, '2'] }] } }] }),
  '{"choices":[{"index":0,"delta":{"content":"hi"},"logprobs":{"content":[{"token":"hi","logprob":-1,"bytes":[1e400]}]}}]}',
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -1, top_logprobs: {} }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -1, top_logprobs: [{ token: 7, logprob: -1 }] }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 'hi' }, logprobs: { content: [{ token: 'hi', logprob: -1, top_logprobs: [{ token: 'a', logprob: -1, bytes: [true] }] }] } }] }),
  // content as a list (Mistral's reasoning models)
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'think' }] }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'text', text: 'answer' }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'thinking', thinking: [{ type: 'reference', reference_ids: [1] }], closed: true }, { type: 'image_url', image_url: 'x' }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ text: null, thinking: null }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [] } }] }),
  // refused by the schema
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [7] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [null] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [[]] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 1 }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'text', text: {} }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'thinking', thinking: 'x' }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'thinking', thinking: [null] }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'thinking', thinking: [{ type: 'text', text: 5 }] }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: [{ type: 'thinking', thinking: [{ type: false }] }] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: {} } }] }),
  '[]',
  '"text"',
  '42',
  'null',
  JSON.stringify({ ...content, id: 5 }),
  JSON.stringify({ ...content, model: {} }),
  JSON.stringify({ ...content, choices: {} }),
  JSON.stringify({ ...content, choices: [null] }),
  JSON.stringify({ ...content, choices: [[]] }),
  JSON.stringify({ ...content, choices: [{ index: '0', delta: { content: 'x' } }] }),
  '{"choices":[{"index":1e400,"delta":{"content":"x"}}]}',
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { content: 7 } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { reasoning_content: false } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { refusal: [] } }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: 'x' }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: [] }] }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: {}, finish_reason: 1 }] }),
  JSON.stringify({ ...content, usage: 'lots' }),
  JSON.stringify({ ...content, usage: [] }),
  JSON.stringify({ ...content, usage: 5 }),
  JSON.stringify({ ...content, usage: { prompt_tokens: '12' } }),
  JSON.stringify({ ...content, usage: { completion_tokens: true } }),
  '{"choices":[],"usage":{"total_tokens":1e400}}',
  '{"choices":[],"usage":{"prompt_cache_hit_tokens":-1e400}}',
  JSON.stringify({ ...content, usage: { prompt_tokens_details: [] } }),
  JSON.stringify({ ...content, usage: { prompt_tokens_details: 'x' } }),
  JSON.stringify({ ...content, usage: { prompt_tokens_details: { cached_tokens: '2' } } }),
  JSON.stringify({ ...content, usage: { prompt_tokens_details: { cache_write_tokens: {} } } }),
  JSON.stringify({ ...content, usage: { completion_tokens_details: 3 } }),
  JSON.stringify({ ...content, usage: { completion_tokens_details: [] } }),
  JSON.stringify({ ...content, usage: { completion_tokens_details: { reasoning_tokens: [1] } } }),
  JSON.stringify({ ...content, choices: [{ index: 0, delta: { tool_calls: 'x' } }] }),
  JSON.stringify({ ...content, error: 'x' }),
];

const contentRead = (c: unknown) => (Array.isArray(c) ? readOpenAIContentParts(c as OpenAIContentPart[]) : c);

describe('readOpenAIChunk', () => {
  it('accepts and refuses exactly what OpenAIChatChunkSchema does', () => {
    for (const text of samples) {
      const value: unknown = JSON.parse(text);
      const schema = OpenAIChatChunkSchema.safeParse(value);
      const read = readOpenAIChunk(value);
      expect({ text, ok: read.ok }).toEqual({ text, ok: schema.success });
      if (read.ok && schema.success) {
        // The fields the decoder reads are the same.
        const pick = (c: typeof read.chunk) => ({
          id: c.id,
          model: c.model,
          // (unknown usage fields may be kept by the hand check: the decoder reads usage through convertOpenAIUsage)
          usage: c.usage && convertOpenAIUsage(c.usage),
          error: c.error,
          choices: c.choices?.map((x) => ({
            index: x.index,
            finish_reason: x.finish_reason,
            logprobs: x.logprobs,
            // (a content list: its unknown item fields may be kept by the hand check; the decoder reads it through readOpenAIContentParts)
            delta: x.delta && { content: contentRead(x.delta.content), reasoning_content: x.delta.reasoning_content, reasoning: x.delta.reasoning, refusal: x.delta.refusal, tool_calls: x.delta.tool_calls },
          })),
        });
        expect(pick(read.chunk)).toEqual(pick(schema.data));
      }
    }
  });

  it('isOpenAIChoiceLogprobs accepts and refuses exactly what OpenAIChoiceLogprobsSchema does (null and absent included)', () => {
    let checked = 0;
    let refused = 0;
    for (const text of samples) {
      const value: unknown = JSON.parse(text);
      const choices = (value as { choices?: unknown } | null)?.choices;
      if (!Array.isArray(choices)) continue;
      for (const choice of choices as unknown[]) {
        const logprobs = (choice as { logprobs?: unknown } | null)?.logprobs;
        const schema = OpenAIChoiceLogprobsSchema.nullish().safeParse(logprobs).success;
        expect({ text, ok: isOpenAIChoiceLogprobs(logprobs) }).toEqual({ text, ok: schema });
        checked++;
        if (!schema) refused++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(refused).toBe(14);
  });

  it('names the schema issue of a refused chunk', () => {
    const read = readOpenAIChunk({ ...content, choices: [{ index: 0, delta: { content: 7 } }] });
    expect(read).toMatchObject({ ok: false });
    expect(read.ok ? '' : read.issue).toMatch(/string/i);
  });
});
