/**
 * Log probabilities in the OpenAI routes' answers: chat completions (`choices[0].logprobs = { content, refusal }`,
 * JSON and on the stream chunk of the content they belong to) and legacy completions (`tokens`, `token_logprobs`,
 * `top_logprobs`, `text_offset`). Ordinary answers keep `logprobs: null`, byte for byte.
 */
import { LLMError, toLLMError, type RouterResult, type StreamPart, type TokenLogprob } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { OpenAIChatChunkSchema, OpenAIChatResponseSchema } from '../schemas/openai-chat.js';
import { OpenAICompletionResponseSchema } from '../schemas/openai-completions.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { toChatCompletion } from './chat-response.js';
import { ChatStreamEncoder, dataFrame } from './chat-stream-encoder.js';
import { CompletionStreamEncoder, toTextCompletion } from './completion-stream-encoder.js';
import { toChatLogprobs, toCompletionLogprobs } from './openai-logprobs.js';

const route = { type: 'route', requestId: 'req_1', deployment: 'gpt', provider: 'openai', cached: false } as unknown as RoutePart;
const usage = { inputTokens: 3, outputTokens: 3, totalTokens: 6 };
const TOKENS: TokenLogprob[] = [
  { token: 'Hi', logprob: -0.25, bytes: [72, 105], topLogprobs: [{ token: 'Hi', logprob: -0.25, bytes: [72, 105] }, { token: 'Hey', logprob: -1.5 }] },
  { token: ' \u00e9t\u00e9', logprob: -9999 },
  { token: ' \u{1F600}', logprob: -0.5, topLogprobs: [] },
];
const CHAT_TOKENS = [
  { token: 'Hi', logprob: -0.25, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.25, bytes: [72, 105] }, { token: 'Hey', logprob: -1.5, bytes: null }] },
  { token: ' \u00e9t\u00e9', logprob: -9999, bytes: null, top_logprobs: [] },
  { token: ' \u{1F600}', logprob: -0.5, bytes: null, top_logprobs: [] },
];

function result(over: Partial<RouterResult> = {}): RouterResult {
  return { requestId: 'req_1', deployment: 'gpt', model: 'm', provider: 'openai', text: 'Hi \u00e9t\u00e9 \u{1F600}', toolCalls: [], finishReason: 'stop', usage, cost: { inputUsd: 0, outputUsd: 0, totalUsd: 0, estimated: false }, cached: false, latencyMs: 1, attempts: [], ...over } as RouterResult;
}

const text = (delta: string): StreamPart => ({ type: 'text-delta', delta });
const lp = (...tokens: TokenLogprob[]): StreamPart => ({ type: 'logprobs', logprobs: tokens });
const finish: Extract<StreamPart, { type: 'finish' }> = { type: 'finish', finishReason: 'stop', usage };
const data = (frame: string) => JSON.parse(frame.slice('data: '.length)) as Record<string, unknown>;

describe('chat completions: logprobs', () => {
  it('toChatLogprobs: OpenAI\'s token shape, bytes null when unknown, top_logprobs [] when none, refusal null', () => {
    expect(toChatLogprobs(TOKENS)).toEqual({ content: CHAT_TOKENS, refusal: null });
    // Key order as OpenAI writes it.
    expect(JSON.stringify(toChatLogprobs([TOKENS[1]!]))).toBe('{"content":[{"token":" \u00e9t\u00e9","logprob":-9999,"bytes":null,"top_logprobs":[]}],"refusal":null}');
  });

  it('JSON answer: choices[0].logprobs when asked for and the result has them, null otherwise (the schema takes both)', () => {
    const withThem = toChatCompletion(result({ logprobs: TOKENS }), { created: 1, explain: false, logprobs: true });
    expect(withThem.choices[0]!.logprobs).toEqual({ content: CHAT_TOKENS, refusal: null });
    expect(OpenAIChatResponseSchema.parse(withThem).choices[0]!.logprobs?.content).toHaveLength(3);
    expect(toChatCompletion(result(), { created: 1, explain: false, logprobs: true }).choices[0]!.logprobs).toBeNull();
    // Not asked for: never rendered, even when the result has them (as the stream encoder does).
    expect(toChatCompletion(result({ logprobs: TOKENS }), { created: 1, explain: false }).choices[0]!.logprobs).toBeNull();
  });

  it.each([true, false])('stream: each content chunk carries its tokens (include_usage %s), byte for byte the chunk object', (includeUsage) => {
    const enc = new ChatStreamEncoder({ created: 7, includeUsage, explain: false, logprobs: true });
    enc.start(route);
    // The text delta waits for its logprobs part: both go out in one chunk.
    expect(enc.part(text('Hi'))).toEqual([]);
    const [frame] = enc.part(lp(TOKENS[0]!));
    const chunk = {
      id: 'chatcmpl-req_1',
      object: 'chat.completion.chunk',
      created: 7,
      model: 'gpt',
      system_fingerprint: null,
      choices: [{ index: 0, delta: { content: 'Hi' }, logprobs: { content: [CHAT_TOKENS[0]], refusal: null }, finish_reason: null }],
      ...(includeUsage ? { usage: null } : {}),
    };
    expect(frame).toBe(dataFrame(chunk));
    expect(OpenAIChatChunkSchema.parse(data(frame!))).toEqual(chunk);
    // Two tokens for one delta.
    expect(enc.part(text(' \u00e9t\u00e9 \u{1F600}'))).toEqual([]);
    const [two] = enc.part(lp(TOKENS[1]!, TOKENS[2]!));
    expect((data(two!).choices as Array<{ logprobs: unknown }>)[0]!.logprobs).toEqual({ content: [CHAT_TOKENS[1], CHAT_TOKENS[2]], refusal: null });
  });

  it('stream: a delta that no logprobs part follows goes out alone, before the next part, the finish or the error', () => {
    const enc = new ChatStreamEncoder({ created: 7, includeUsage: false, explain: false, logprobs: true });
    enc.start(route);
    enc.part(text('a'));
    const frames = enc.part(text('b'));
    expect(frames.map((f) => (data(f).choices as Array<Record<string, unknown>>)[0])).toEqual([{ index: 0, delta: { content: 'a' }, logprobs: null, finish_reason: null }]);
    const atFinish = enc.finish(finish, result({ text: 'ab' }));
    expect(data(atFinish[0]!).choices).toEqual([{ index: 0, delta: { content: 'b' }, logprobs: null, finish_reason: null }]);
    expect((data(atFinish[1]!).choices as Array<{ finish_reason: string }>)[0]!.finish_reason).toBe('stop');
    const broken = new ChatStreamEncoder({ created: 7, includeUsage: false, explain: false, logprobs: true });
    broken.start(route);
    broken.part(text('cut'));
    const atError = broken.error(new LLMError({ code: 'stream_interrupted', message: 'gone' }), 'req_1');
    expect(atError).toHaveLength(2);
    expect((data(atError[0]!).choices as Array<{ delta: unknown }>)[0]!.delta).toEqual({ content: 'cut' });
    expect(data(atError[1]!)).toHaveProperty('error');
  });

  it('stream: tokens without text of their own ride an empty content delta', () => {
    const enc = new ChatStreamEncoder({ created: 7, includeUsage: false, explain: false, logprobs: true });
    enc.start(route);
    const [frame] = enc.part(lp(TOKENS[1]!));
    expect((data(frame!).choices as Array<Record<string, unknown>>)[0]).toEqual({ index: 0, delta: { content: '' }, logprobs: { content: [CHAT_TOKENS[1]], refusal: null }, finish_reason: null });
  });

  it('stream not asked for logprobs: deltas go out at once as before, and a logprobs part adds nothing', () => {
    const enc = new ChatStreamEncoder({ created: 7, includeUsage: false, explain: false });
    enc.start(route);
    const [frame] = enc.part(text('Hi'));
    expect(frame).toBe('data: {"id":"chatcmpl-req_1","object":"chat.completion.chunk","created":7,"model":"gpt","system_fingerprint":null,"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}]}\n\n');
    expect(enc.part(lp(TOKENS[0]!))).toEqual([]);
  });
});

describe('chat completions with logprobs: a held text delta is never lost', () => {
  // With logprobs asked for, each text delta waits for the next part. When that part (or the finish) fails (a tool
  // call whose arguments contradict what was already streamed: the stream ends with its error chunk), the held
  // text still reaches the client before the error chunk, as on an ordinary stream (where it went out at once).
  // The calls replay what `SseFrames` does: each part's frames, and when `part` or `finish` throws, `error`.
  const toolFinish: Extract<StreamPart, { type: 'finish' }> = { type: 'finish', finishReason: 'tool-calls', usage };
  const contradicted = result({ text: 'Hello', finishReason: 'tool-calls', toolCalls: [{ id: 'call_a', name: 'f', arguments: '{"a":2}' }] });
  const opened: StreamPart = { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'f', argumentsDelta: '{"a":1}' };

  /** The content the client received, over every data frame. */
  function contentOf(frames: string[]): string {
    let out = '';
    for (const f of frames) {
      if (!f.startsWith('data: {')) continue;
      for (const c of (data(f).choices as Array<{ delta?: { content?: string } }> | undefined) ?? []) out += c.delta?.content ?? '';
    }
    return out;
  }

  /** Feeds parts as SseFrames does: a part that throws ends the stream with the encoder's error frames. */
  function failing(logprobs: boolean, parts: StreamPart[], end?: RouterResult): string[] {
    const enc = new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false, logprobs });
    const frames = [...enc.start(route)];
    try {
      for (const p of parts) frames.push(...enc.part(p));
      if (end) frames.push(...enc.finish(toolFinish, end));
    } catch (e) {
      frames.push(...enc.error(toLLMError(e), 'req_1'));
      return frames;
    }
    throw new Error('the stream was expected to fail');
  }

  it('sends the held delta before the error chunk when the part after it fails (as an ordinary stream sends it)', () => {
    const parts: StreamPart[] = [
      opened,
      text('Hello'),
      // The whole call contradicts the arguments already streamed: the encoder throws (invalid_response).
      { type: 'tool-call', index: 0, toolCall: { id: 'call_a', name: 'f', arguments: '{"a":2}' } },
    ];
    expect(contentOf(failing(false, parts))).toBe('Hello');
    const withLogprobs = failing(true, parts);
    expect(withLogprobs.at(-1)).toContain('"error"');
    expect(contentOf(withLogprobs)).toBe('Hello');
  });

  it('sends the held delta before the error chunk when the finish fails (the result contradicts a streamed call)', () => {
    const parts: StreamPart[] = [opened, text('Hello')];
    expect(contentOf(failing(false, parts, contradicted))).toBe('Hello');
    const withLogprobs = failing(true, parts, contradicted);
    expect(withLogprobs.at(-1)).toContain('"error"');
    expect(contentOf(withLogprobs)).toBe('Hello');
  });
});

describe('legacy completions: logprobs', () => {
  it('toCompletionLogprobs: parallel arrays, candidates as token -> logprob objects, text_offset in characters', () => {
    const { logprobs, end } = toCompletionLogprobs(TOKENS);
    expect(logprobs).toEqual({
      tokens: ['Hi', ' \u00e9t\u00e9', ' \u{1F600}'],
      token_logprobs: [-0.25, -9999, -0.5],
      top_logprobs: [{ Hi: -0.25, Hey: -1.5 }, {}, {}],
      // The emoji is one character (two UTF-16 units), as OpenAI (Python) counts.
      text_offset: [0, 2, 6],
    });
    expect(end).toBe(8);
    // No token with candidates (logprobs: 0): top_logprobs null. Offsets go on from where a stream's last chunk ended.
    expect(toCompletionLogprobs([{ token: 'x', logprob: -1 }], 8).logprobs).toEqual({ tokens: ['x'], token_logprobs: [-1], top_logprobs: null, text_offset: [8] });
  });

  it('a candidate token named __proto__ is a plain key (no prototype games), and a repeated one keeps the first', () => {
    const { logprobs } = toCompletionLogprobs([{ token: 'a', logprob: -1, topLogprobs: [{ token: '__proto__', logprob: -1 }, { token: 'a', logprob: -2 }, { token: 'a', logprob: -3 }] }]);
    expect(JSON.stringify(logprobs.top_logprobs)).toBe('[{"__proto__":-1,"a":-2}]');
  });

  it('JSON answer: choices[0].logprobs when asked for and the result has them (text_offset from the prompt\'s start), null otherwise', () => {
    const answer = toTextCompletion(result({ logprobs: TOKENS }), { created: 1, explain: false, logprobs: true, promptChars: 5 });
    expect(OpenAICompletionResponseSchema.parse(answer).choices[0]!.logprobs?.tokens).toEqual(['Hi', ' \u00e9t\u00e9', ' \u{1F600}']);
    expect(answer.choices[0]!.logprobs?.text_offset).toEqual([5, 7, 11]);
    expect(toTextCompletion(result(), { created: 1, explain: false, logprobs: true }).choices[0]!.logprobs).toBeNull();
    // Not asked for: never rendered, even when the result has them.
    expect(toTextCompletion(result({ logprobs: TOKENS }), { created: 1, explain: false }).choices[0]!.logprobs).toBeNull();
  });

  it('stream: each text chunk carries its tokens, text_offset from the prompt\'s start counting on across chunks; a lone delta goes out at the finish', () => {
    const enc = new CompletionStreamEncoder({ created: 7, includeUsage: false, explain: false, logprobs: true, promptChars: 3 });
    enc.start(route);
    expect(enc.part(text('Hi'))).toEqual([]);
    const first = data(enc.part(lp(TOKENS[0]!))[0]!);
    expect(first.choices).toEqual([{ text: 'Hi', index: 0, logprobs: { tokens: ['Hi'], token_logprobs: [-0.25], top_logprobs: [{ Hi: -0.25, Hey: -1.5 }], text_offset: [3] }, finish_reason: null }]);
    enc.part(text(' \u00e9t\u00e9 \u{1F600}'));
    const second = data(enc.part(lp(TOKENS[1]!, TOKENS[2]!))[0]!);
    expect(OpenAICompletionResponseSchema.parse(second).choices[0]!.logprobs).toEqual({ tokens: [' \u00e9t\u00e9', ' \u{1F600}'], token_logprobs: [-9999, -0.5], top_logprobs: null, text_offset: [5, 9] });
    enc.part(text('!'));
    const end = enc.finish(finish, result());
    expect(end.map((f) => (f.startsWith('data: {') ? (data(f).choices as Array<{ text: string; logprobs: unknown }>)[0] : f))).toEqual([
      { text: '!', index: 0, logprobs: null, finish_reason: null },
      expect.objectContaining({ text: '', finish_reason: 'stop', logprobs: null }),
      'data: [DONE]\n\n',
    ]);
  });

  it('stream not asked for logprobs: unchanged frames, and a logprobs part adds nothing', () => {
    const enc = new CompletionStreamEncoder({ created: 7, includeUsage: false, explain: false });
    enc.start(route);
    expect(enc.part(text('Hi'))).toEqual(['data: {"id":"cmpl-req_1","object":"text_completion","created":7,"model":"gpt","system_fingerprint":null,"choices":[{"text":"Hi","index":0,"logprobs":null,"finish_reason":null}]}\n\n']);
    expect(enc.part(lp(TOKENS[0]!))).toEqual([]);
  });
});
