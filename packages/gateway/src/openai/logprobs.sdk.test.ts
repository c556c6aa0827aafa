/**
 * Log probabilities end to end with the official `openai` client: a served gateway over a local OpenAI-wire
 * upstream that answers `logprobs` (each word a token, with its own log probability, UTF-8 bytes and
 * candidates), on chat completions, legacy completions and Responses, streamed and not. An ordinary request gets
 * none, as before.
 */
import { wireLogprobs } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

const served = openAIOverWire();
beforeEach(() => served.upstream.setScript({ text: 'Paris is lovely' }));

const WORDS = ['Paris ', 'is ', 'lovely'];
/** What the upstream answers for each word with `top` candidates (OpenAI's chat token shape). */
const wire = (top: number) => WORDS.flatMap((w) => wireLogprobs(w, top));
const ASK: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Tell me about Paris' }];
const lastBody = () => served.upstream.requests.at(-1)!.body as Record<string, unknown>;

describe('/v1/chat/completions', () => {
  it('JSON: choices[0].logprobs.content is the upstream\'s tokens (bytes and top_logprobs kept), refusal null', async () => {
    const r = await served.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, logprobs: true, top_logprobs: 2 });
    expect(lastBody()).toMatchObject({ logprobs: true, top_logprobs: 2 });
    expect(r.choices[0]!.message.content).toBe('Paris is lovely');
    expect(r.choices[0]!.logprobs).toEqual({ content: wire(2), refusal: null });
  });

  it('stream: every content chunk carries its own tokens; joined they are the JSON answer\'s', async () => {
    const stream = await served.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, logprobs: true, top_logprobs: 1, stream: true });
    const withContent: OpenAI.ChatCompletionChunk.Choice[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) withContent.push(choice);
    }
    expect(withContent.map((c) => c.delta.content)).toEqual(WORDS);
    for (const c of withContent) expect(c.logprobs?.content?.map((t) => t.token).join('')).toBe(c.delta.content);
    expect(withContent.flatMap((c) => c.logprobs?.content ?? [])).toEqual(wire(1));
  });

  it('the stream helper gathers them into the final completion', async () => {
    const final = await served.gw.openai().chat.completions.stream({ model: 'gpt', messages: ASK, logprobs: true }).finalChatCompletion();
    expect(final.choices[0]!.logprobs?.content).toEqual(wire(0));
  });

  it('not asked: logprobs null in the answer and on every chunk, and nothing asked upstream', async () => {
    const r = await served.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK });
    expect(r.choices[0]!.logprobs).toBeNull();
    expect(lastBody()).not.toHaveProperty('logprobs');
    const stream = await served.gw.openai().chat.completions.create({ model: 'gpt', messages: ASK, stream: true });
    for await (const chunk of stream) for (const c of chunk.choices) expect(c.logprobs).toBeNull();
  });
});

describe('/v1/completions', () => {
  const PROMPT = 'Tell me about Paris';
  const legacy = (top: number) => {
    const tokens = wire(top);
    // OpenAI counts text_offset from the start of the prompt (not echoed): the first token's is the prompt's length.
    let offset = PROMPT.length;
    return {
      tokens: tokens.map((t) => t.token),
      token_logprobs: tokens.map((t) => t.logprob),
      top_logprobs: top > 0 ? tokens.map((t) => Object.fromEntries(t.top_logprobs.map((c) => [c.token, c.logprob]))) : null,
      text_offset: tokens.map((t) => (offset += t.token.length) - t.token.length),
    };
  };

  it('JSON: logprobs: N gives tokens, token_logprobs, top_logprobs (N per token) and text_offset', async () => {
    const r = await served.gw.openai().completions.create({ model: 'gpt', prompt: PROMPT, logprobs: 2 });
    expect(r.choices[0]!.text).toBe('Paris is lovely');
    expect(r.choices[0]!.logprobs).toEqual(legacy(2));
  });

  it('stream: each chunk its tokens, text_offset counting on across chunks', async () => {
    const stream = await served.gw.openai().completions.create({ model: 'gpt', prompt: PROMPT, logprobs: 0, stream: true });
    const chunks: OpenAI.CompletionChoice[] = [];
    for await (const c of stream) if (c.choices[0]?.text) chunks.push(c.choices[0]);
    expect(chunks.map((c) => c.text)).toEqual(WORDS);
    const joined = legacy(0);
    expect(chunks.map((c) => c.logprobs)).toEqual(WORDS.map((_, i) => ({ tokens: [joined.tokens[i]], token_logprobs: [joined.token_logprobs[i]], top_logprobs: null, text_offset: [joined.text_offset[i]] })));
  });

  it('text_offset counts the prompt in characters (code points, as OpenAI\'s Python does), given as a string or a one-element array', async () => {
    // 'caf\u00e9 \u{1F600}?' is 7 characters (9 UTF-16 units, 11 UTF-8 bytes).
    const prompt = 'caf\u00e9 \u{1F600}?';
    const offsets = [7, 7 + 6, 7 + 9];
    const r = await served.gw.openai().completions.create({ model: 'gpt', prompt, logprobs: 0 });
    expect(r.choices[0]!.logprobs?.text_offset).toEqual(offsets);
    const stream = await served.gw.openai().completions.create({ model: 'gpt', prompt: [prompt], logprobs: 0, stream: true });
    const streamed: number[] = [];
    for await (const c of stream) streamed.push(...(c.choices[0]?.logprobs?.text_offset ?? []));
    expect(streamed).toEqual(offsets);
  });
});

describe('/v1/responses', () => {
  /** OpenAI's output_text logprobs shape from the upstream's chat tokens. */
  const outputText = (top: number) => wire(top).map((t) => ({ token: t.token, bytes: t.bytes, logprob: t.logprob, top_logprobs: t.top_logprobs }));
  const eventTokens = (top: number) => wire(top).map((t) => ({ token: t.token, logprob: t.logprob, top_logprobs: t.top_logprobs.map((c) => ({ token: c.token, logprob: c.logprob })) }));

  it('JSON: the output_text part carries them (include message.output_text.logprobs, top_logprobs)', async () => {
    const r = await served.gw.openai().responses.create({ model: 'gpt', input: 'Tell me about Paris', include: ['message.output_text.logprobs'], top_logprobs: 2 });
    expect(r.output_text).toBe('Paris is lovely');
    const message = r.output.find((o) => o.type === 'message') as OpenAI.Responses.ResponseOutputMessage;
    expect((message.content[0] as OpenAI.Responses.ResponseOutputText).logprobs).toEqual(outputText(2));
  });

  it('stream: each output_text.delta carries its tokens, output_text.done and the completed response all of them', async () => {
    const stream = await served.gw.openai().responses.create({ model: 'gpt', input: 'Tell me about Paris', include: ['message.output_text.logprobs'], stream: true });
    const deltas: OpenAI.Responses.ResponseTextDeltaEvent[] = [];
    let done: OpenAI.Responses.ResponseTextDoneEvent | undefined;
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      if (e.type === 'response.output_text.delta') deltas.push(e);
      if (e.type === 'response.output_text.done') done = e;
      if (e.type === 'response.completed') completed = e.response;
    }
    expect(deltas.map((d) => d.delta)).toEqual(WORDS);
    expect(deltas.flatMap((d) => d.logprobs)).toEqual(eventTokens(0));
    expect(done?.logprobs).toEqual(eventTokens(0));
    const message = completed?.output.find((o) => o.type === 'message') as OpenAI.Responses.ResponseOutputMessage;
    expect((message.content[0] as OpenAI.Responses.ResponseOutputText).logprobs).toEqual(outputText(0));
  });

  it('not asked: logprobs [] as before', async () => {
    const r = await served.gw.openai().responses.create({ model: 'gpt', input: 'Tell me about Paris' });
    const message = r.output.find((o) => o.type === 'message') as OpenAI.Responses.ResponseOutputMessage;
    expect((message.content[0] as OpenAI.Responses.ResponseOutputText).logprobs).toEqual([]);
  });
});
