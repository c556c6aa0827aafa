import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../spec/index.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

/**
 * An error a server sends inside a stream (after its 200) is the server's unless it says more. vLLM
 * (serving_chat.py, `chat_completion_stream_generator`, releases up to 0.10) reports EVERY exception raised while a
 * stream runs (`except Exception as e: data = self.create_streaming_error_response(str(e))`) with the defaults of
 * `create_streaming_error_response`: `type: "BadRequestError"`, `code: 400`, whatever the cause (a dead engine,
 * CUDA out of memory, a crashed worker), then `data: [DONE]`. The request was validated before the 200 went out,
 * so such an error is a `provider_error`: retried, then the next deployment, counted against the circuit. Only
 * what is certain refines it: an over-long prompt by its message, a 429, a 5xx.
 *
 * An error sent in place of a chunk, at the top level (`{"object":"error",...}`: vLLM's older releases;
 * FastChat's worker output `{"text":...,"error_code":50002}`), is a stream error too, never the clean finish of
 * an empty answer after the `[DONE]` that follows it.
 */
const VLLM_ENGINE_DEAD =
  'data: {"error":{"object":"error","message":"Background loop has errored already.","type":"BadRequestError","param":null,"code":400}}\n\n' +
  'data: [DONE]\n\n';
const VLLM_TOP_LEVEL =
  'data: {"object":"error","message":"CUDA out of memory. Tried to allocate 2.00 GiB","type":"BadRequestError","param":null,"code":400}\n\n' +
  'data: [DONE]\n\n';
const FASTCHAT_OOM =
  'data: {"text":"**NETWORK ERROR DUE TO HIGH TRAFFIC. PLEASE REGENERATE OR REFRESH THIS PAGE.**\\n\\n(CUDA out of memory.)","error_code":50002}\n\n' +
  'data: [DONE]\n\n';

const dead = useOpenAIWireServer({ script: { rawSSE: VLLM_ENGINE_DEAD } });
const healthy = useOpenAIWireServer({ script: { text: 'from the healthy one' } });

const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };

async function collect(iterable: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of iterable) parts.push(part);
  return parts;
}

describe('a vLLM stream whose engine died (error chunk code 400 before any content)', () => {
  it('falls over to the next deployment', async () => {
    dead.server.setScript({ rawSSE: VLLM_ENGINE_DEAD });
    const { router } = openAIWireRouter(
      [
        { name: 'vllm-a', engine: 'openai-compatible', model: 'm', baseURL: dead.server.baseURL },
        { name: 'vllm-b', engine: 'openai-compatible', model: 'm', baseURL: healthy.server.baseURL },
      ],
      { retries: { max: 0 } },
    );
    const stream = router.stream(hello);
    for await (const _ of stream) void _;
    const settled = await stream.result.then(
      (r) => ({ ok: true as const, text: r.text }),
      (e: { code?: string }) => ({ ok: false as const, code: e.code }),
    );
    expect(settled).toEqual({ ok: true, text: 'from the healthy one' });
  });

  it("counts against the dead deployment's circuit (a threshold of 1 opens it)", async () => {
    dead.server.setScript({ rawSSE: VLLM_ENGINE_DEAD });
    const { router } = openAIWireRouter([{ name: 'vllm-a', engine: 'openai-compatible', model: 'm', baseURL: dead.server.baseURL }], {
      retries: { max: 0 },
      circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    const stream = router.stream(hello);
    for await (const _ of stream) void _;
    await stream.result.catch(() => {});
    expect(router.stats()['vllm-a']?.circuit).toBe('open');
  });

  it('is a retryable provider_error with the upstream message; an over-long prompt stays context_length_exceeded', async () => {
    dead.server.setScript({ rawSSE: VLLM_ENGINE_DEAD });
    const parts = await collect(dead.engine().stream(hello));
    expect(parts).toMatchObject([{ type: 'error', error: { code: 'provider_error', isRetryable: true, upstreamStatus: 400 } }]);
    if (parts[0]?.type === 'error') expect(parts[0].error.message).toContain('Background loop has errored already.');

    dead.server.setScript({
      rawSSE:
        'data: {"error":{"object":"error","message":"This model\'s maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}}\n\ndata: [DONE]\n\n',
    });
    expect(await collect(dead.engine().stream(hello))).toMatchObject([{ type: 'error', error: { code: 'context_length_exceeded', isRetryable: false } }]);
  });
});

describe('an error object at the top level of a stream chunk (no `choices`), then [DONE]', () => {
  it.each([
    ['vLLM `object: "error"`', VLLM_TOP_LEVEL, 'CUDA out of memory. Tried to allocate 2.00 GiB', 400],
    ['FastChat `error_code`', FASTCHAT_OOM, '(CUDA out of memory.)', undefined],
  ])('%s ends the stream with a provider_error, never a finish', async (_, rawSSE, message, upstreamStatus) => {
    dead.server.setScript({ rawSSE });
    const parts = await collect(dead.engine().stream(hello));
    expect(parts.filter((p) => p.type === 'finish')).toEqual([]);
    expect(parts).toMatchObject([{ type: 'error', error: { code: 'provider_error', isRetryable: true, upstreamStatus } }]);
    if (parts[0]?.type === 'error') expect(parts[0].error.message).toContain(message);
  });

  it('after some content too (the content stays, the stream ends with the error)', async () => {
    dead.server.setScript({ rawSSE: 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n' + VLLM_TOP_LEVEL });
    const parts = await collect(dead.engine().stream(hello));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'error']);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'provider_error' } });
  });

  it('a router stream falls over to the next deployment instead of resolving an empty answer', async () => {
    dead.server.setScript({ rawSSE: FASTCHAT_OOM });
    const { router } = openAIWireRouter(
      [
        { name: 'fastchat', engine: 'openai-compatible', model: 'm', baseURL: dead.server.baseURL },
        { name: 'backup', engine: 'openai-compatible', model: 'm', baseURL: healthy.server.baseURL },
      ],
      { retries: { max: 0 } },
    );
    const stream = router.stream(hello);
    for await (const _ of stream) void _;
    const answer = await stream.result;
    expect(answer).toMatchObject({ deployment: 'backup', text: 'from the healthy one' });
  });

  it('a usage chunk without choices is still read as usage', async () => {
    dead.server.setScript({
      rawSSE:
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n' +
        'data: {"id":"x","object":"chat.completion.chunk","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\ndata: [DONE]\n\n',
    });
    const parts = await collect(dead.engine().stream(hello));
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 1 } });
  });
});
