import { LLMError, type RouterResult, type RouterStreamPart, type StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { ChatStreamEncoder } from '../openai/chat-stream-encoder.js';
import { responseEcho } from '../responses/response-object.js';
import { ResponsesStreamEncoder } from '../responses/responses-stream-encoder.js';
import type { OpenedStream, RoutePart } from './open-stream.js';
import { sseReply, type StreamEncoder, type StreamOutcome } from './sse-response.js';

// README ("llm_time_to_first_token_seconds"): the time to first token of a stream is taken at "the first content part
// the client's wire carries ... reasoning counts where the wire sends it". An Anthropic deployment's answer that
// starts with a `redacted_thinking` block (core: a `reasoning-delta` with an empty delta and `redactedData`, which
// `openStream` takes as the head's first content part) sends nothing on the chat completions or Responses wire
// (neither has a field for it): the time to first token is taken at the text that follows, and a stream that breaks
// off before that text has none.

const usage = { inputTokens: 3, outputTokens: 4, totalTokens: 7 };
const route: RoutePart = { type: 'route', requestId: 'req1', deployment: 'claude', model: 'claude-sonnet-4-5', provider: 'anthropic', cached: false };
const result = { requestId: 'req1', text: 'Hello', toolCalls: [], finishReason: 'stop', usage, deployment: 'claude', provider: 'anthropic', cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 10 } as unknown as RouterResult;

/** The head as `openStream` leaves it (ends with the first `isContentPart`), the rest pulled one by one; the clock is 100 + parts pulled. */
function opened(head: StreamPart[], rest: RouterStreamPart[]) {
  let pulled = 0;
  const iterator: AsyncIterator<RouterStreamPart> = {
    next: async () => (pulled < rest.length ? { done: false, value: rest[pulled++]! } : (pulled++, { done: true, value: undefined })),
    return: async () => ({ done: true, value: undefined }),
  };
  const stream: OpenedStream = {
    route,
    head,
    iterator,
    stream: { requestId: 'req1', result: Promise.resolve(result), [Symbol.asyncIterator]: () => iterator, cancel: () => {} },
    firstPartMs: 5,
    startedAt: 0,
    now: () => 100 + pulled,
  };
  return stream;
}

async function run(o: OpenedStream, enc: StreamEncoder): Promise<{ frames: string[]; outcome: StreamOutcome }> {
  const outcomes: StreamOutcome[] = [];
  const r = sseReply(o, enc, { requestId: 'req1', headers: {}, signal: undefined, settle: async (x) => void outcomes.push(x) });
  if (typeof r.body === 'string') throw new Error('not a stream');
  const frames: string[] = [];
  for (;;) {
    const next = await r.body.frames.next();
    if (next.done) break;
    frames.push(next.value);
  }
  return { frames, outcome: outcomes[0]! };
}

describe('ttft on the OpenAI wires of an answer that starts with redacted thinking', () => {
  it('is taken at the first text the chat client gets, not at the redacted block the chat wire leaves out', async () => {
    const o = opened([{ type: 'reasoning-delta', delta: '', redactedData: 'EmwKAhgBEgy3va3pzix' }], [{ type: 'text-delta', delta: 'Hello' }, { type: 'finish', finishReason: 'stop', usage }]);
    const { frames, outcome } = await run(o, new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false }));
    // The chat wire carried nothing for the head's part: its first frame is the role chunk alone.
    expect(frames[0]).not.toContain('reasoning');
    expect(frames.findIndex((f) => f.includes('"content":"Hello"'))).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ status: 'success' });
    // The text was the first part pulled after the head (clock 101), not the opening (5).
    expect(outcome.status === 'success' && outcome.ttftMs).toBe(101);
  });

  it('a stream that broke off after the redacted block, before any text, has no ttft (it sent the chat client no content)', async () => {
    const o = opened([{ type: 'reasoning-delta', delta: '', redactedData: 'EmwKAhgBEgy3va3pzix' }], [{ type: 'error', error: new LLMError({ code: 'provider_error', message: 'overloaded' }) }]);
    const { frames, outcome } = await run(o, new ChatStreamEncoder({ created: 1, includeUsage: false, explain: false }));
    expect(frames.some((f) => /"(content|reasoning_content)":"[^"]/.test(f))).toBe(false);
    expect(outcome).toMatchObject({ status: 'error' });
    expect(outcome.status === 'error' ? outcome.ttftMs : 'success').toBeUndefined();
  });
  it('on the Responses wire too: the redacted block opens no reasoning item, the first text is the first token', async () => {
    const o = opened([{ type: 'reasoning-delta', delta: '', redactedData: 'EmwKAhgBEgy3va3pzix' }], [{ type: 'text-delta', delta: 'Hello' }, { type: 'finish', finishReason: 'stop', usage }]);
    const { frames, outcome } = await run(o, new ResponsesStreamEncoder({ createdAt: 1, echo: responseEcho({ model: 'claude', input: 'x' }), explain: false }));
    expect(frames.some((f) => f.includes('"type":"reasoning"'))).toBe(false);
    expect(frames.some((f) => f.includes('"delta":"Hello"'))).toBe(true);
    expect(outcome.status === 'success' && outcome.ttftMs).toBe(101);
  });
});
