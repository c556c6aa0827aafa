import { describe, expect, it } from 'vitest';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';
import type { StreamPart } from '../../spec/index.js';

/**
 * An OpenAI-compatible stream that reports an error outside a `data:` chunk ends with an error part, never with a
 * clean finish of an empty answer. llama.cpp's server (tools/server/server.cpp, `handle_completions_impl`) reports
 * an error of a streamed completion with `server_sent_event(sink, "error", error_data)`, i.e. an `error: {...}`
 * line (an SSE field outside the spec, not a `data:` line), and then, on the OpenAI-compatible endpoints, still
 * writes `data: [DONE]`. The error is classified as an error chunk (`data: {"error":{...}}`) is: by its message
 * (an over-long prompt), a 429 or 5xx `code`, else `provider_error` (see openai-stream-errors.vllm.test.ts); a
 * `[DONE]` before any chunk is `stream_interrupted`.
 */
const LLAMA_CPP_STREAM_ERROR =
  'error: {"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":4096}\n\n' +
  'data: [DONE]\n\n';

const fixture = useOpenAIWireServer({ script: { rawSSE: LLAMA_CPP_STREAM_ERROR } });

async function collect(iterable: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of iterable) parts.push(part);
  return parts;
}

const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('an OpenAI-compatible stream that reports an error and then [DONE]', () => {
  it("ends with an error part carrying the upstream's message and classification, never a clean finish of an empty answer", async () => {
    const parts = await collect(fixture.engine().stream(hello));
    expect(parts.map((p) => p.type)).toEqual(['error']);
    const last = parts.at(-1)!;
    expect(last).toMatchObject({
      type: 'error',
      error: { code: 'context_length_exceeded', isRetryable: false, upstreamStatus: 400, provider: 'openai-compatible', deployment: 'd' },
    });
    if (last.type === 'error') expect(last.error.message).toContain('the request exceeds the available context size');
  });

  it('a router stream does not resolve `.result` as a successful empty answer', async () => {
    const { router } = openAIWireRouter([{ name: 'llamacpp', engine: 'openai-compatible', model: 'local', baseURL: fixture.server.baseURL }], {
      retries: { max: 0 },
    });
    const stream = router.stream(hello);
    const types: string[] = [];
    for await (const part of stream) types.push(part.type);
    const settled = await stream.result.then(
      (r) => ({ ok: true as const, text: r.text, finishReason: r.finishReason }),
      (e: { code?: string }) => ({ ok: false as const, code: e.code }),
    );
    expect(settled).toEqual({ ok: false, code: 'context_length_exceeded' });
    expect(types.at(-1)).toBe('error');
  });

  it.each([
    ['a 500', 'error: {"code":500,"message":"slot crashed"}\n\ndata: [DONE]\n\n', { code: 'provider_error', isRetryable: true, upstreamStatus: 500 }],
    ['a 429', 'error: {"code":429,"message":"busy"}\n\ndata: [DONE]\n\n', { code: 'rate_limited', isRetryable: true, upstreamStatus: 429 }],
    ['a text, after some content', 'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\nerror: out of memory\n\ndata: [DONE]\n\n', { code: 'provider_error' }],
  ])('classifies %s error line', async (_, rawSSE, expected) => {
    fixture.server.setScript({ rawSSE });
    const parts = await collect(fixture.engine().stream(hello));
    expect(parts.filter((p) => p.type === 'finish')).toEqual([]);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: expected });
  });

  it('a [DONE] before any chunk is stream_interrupted; a finish_reason chunk then [DONE] still finishes', async () => {
    fixture.server.setScript({ rawSSE: 'data: [DONE]\n\n' });
    expect(await collect(fixture.engine().stream(hello))).toMatchObject([{ type: 'error', error: { code: 'stream_interrupted', isRetryable: true } }]);

    fixture.server.setScript({ rawSSE: 'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n' });
    expect((await collect(fixture.engine().stream(hello))).at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });
});
