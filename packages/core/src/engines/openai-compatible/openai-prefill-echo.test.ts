import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import type { OpenAIWireScript } from '../../test/openai-wire-server.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// Mistral answers a `prefix: true` message with a content that starts with that message's text (SillyTavern#2557:
// "It's returned from the API"; vercel/ai#3256 strips the duplicated content). A `prefix` deployment gives only the
// continuation, in a whole answer and in a stream however the server splits it; an answer that does not repeat the
// prefill is kept whole.

const PREFILL = '{"capital": "';
const wire = useOpenAIWireServer();
const request: GenerateRequest = {
  messages: [
    { role: 'user', content: 'Capital of Italy?' },
    { role: 'assistant', content: PREFILL },
  ],
  continueFinalMessage: true,
};
const mistral: Partial<ModelConfigInput> = { preset: 'mistral', apiKey: 'k', baseURL: '' };

async function answers(script: OpenAIWireScript, config: Partial<ModelConfigInput> = mistral, req: GenerateRequest = request) {
  wire.server.setScript(script);
  const engine = wire.engine({ ...config, baseURL: wire.server.baseURL });
  const generated = (await engine.generate(req)).text;
  const parts: StreamPart[] = [];
  for await (const p of engine.stream(req)) parts.push(p);
  const streamed = parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
  expect(parts.at(-1)?.type).toBe('finish');
  return { generated, streamed };
}

describe('openai-compatible: a prefix server repeating the prefill', () => {
  it('the repeated prefill is taken off, whole and streamed in any split (one chunk, word chunks, a character a chunk)', async () => {
    const text = `${PREFILL}Rome"}`;
    for (const chunks of [1, undefined, text.length]) {
      expect(await answers({ text, ...(chunks !== undefined ? { chunks } : {}) })).toEqual({ generated: 'Rome"}', streamed: 'Rome"}' });
    }
  });

  it('an answer that only continues, or diverges from the prefill, or is a shorter part of it, is kept whole', async () => {
    for (const text of ['Rome"}', '{"capital": 1}', '{"cap']) {
      for (const chunks of [1, text.length]) expect(await answers({ text, chunks })).toEqual({ generated: text, streamed: text });
    }
  });

  it('exactly the prefill: an empty answer', async () => {
    expect(await answers({ text: PREFILL, chunks: 3 })).toEqual({ generated: '', streamed: '' });
  });

  it('not taken off where prefix was not sent: without continueFinalMessage, or another prefill way', async () => {
    const text = `${PREFILL}Rome"}`;
    // (Told the server takes a final assistant message without prefix: Mistral's own API refuses one.)
    const takes = { ...mistral, options: { refusesFinalAssistant: false } };
    expect(await answers({ text }, takes, { ...request, continueFinalMessage: false })).toEqual({ generated: text, streamed: text });
    expect(await answers({ text }, { ...mistral, options: { prefill: 'continue_final_message', refusesFinalAssistant: false } })).toEqual({ generated: text, streamed: text });
  });
});

describe('openai-compatible: a prefix stream cut while the echo is held', () => {
  it('hands none of the partial echo to the client as answer text: the stream ends with its error', async () => {
    wire.server.setScript({ text: `${PREFILL}Rome"}`, chunks: PREFILL.length + 6, cutAfterChunks: 3 });
    const engine = wire.engine({ ...mistral, baseURL: wire.server.baseURL });
    const parts: StreamPart[] = [];
    for await (const p of engine.stream(request)) parts.push(p);
    expect(parts.at(-1)?.type).toBe('error');
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([]);
  });
});

describe('openai-compatible: a prefix server that does not repeat the prefill (DeepSeek)', () => {
  // DeepSeek's Chat Prefix Completion answers with the continuation alone: a continuation that happens to start with
  // the prefill's own text is the answer, and nothing of it is taken off.
  const deepseek: Partial<ModelConfigInput> = { preset: 'deepseek', apiKey: 'k', baseURL: '', options: { prefill: 'prefix' } };

  it('keeps a continuation that starts with the prefill whole, in a whole answer and a stream in any split', async () => {
    const text = `${PREFILL}Rome"}`;
    for (const chunks of [1, text.length]) expect(await answers({ text, chunks }, deepseek)).toEqual({ generated: text, streamed: text });
    expect((wire.server.requests.at(-1)?.body as { messages: unknown[] }).messages.at(-1)).toMatchObject({ role: 'assistant', prefix: true });
  });

  it('options.prefillEcho turns the stripping on for another server that repeats it, and off for the mistral preset', async () => {
    const text = `${PREFILL}Rome"}`;
    expect(await answers({ text }, { ...deepseek, options: { prefill: 'prefix', prefillEcho: true } })).toEqual({ generated: 'Rome"}', streamed: 'Rome"}' });
    expect(await answers({ text }, { ...mistral, options: { prefillEcho: false } })).toEqual({ generated: text, streamed: text });
  });
});
