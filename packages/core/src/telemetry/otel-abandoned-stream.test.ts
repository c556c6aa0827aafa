/**
 * The span of a stream whose consumer went away after the answer started (a client that disconnects
 * mid-stream: the gateway cancels the router stream, then closes it; a consumer that stops pulling): it ends
 * with `error.type` `aborted` (`timeout` for one that stopped pulling: consumerIdleMs fired) and still names the deployment and provider that was answering, counts that
 * attempt in `llmrr.attempts` and writes its INTERNAL child span (docs/core/telemetry.md).
 * Real OTel SDK (InMemorySpanExporter), real LLMRouter, mock engine.
 */
import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
import { instrumentRouterWith } from './otel.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('otel.review');
afterEach(() => exporter.reset());

function setup(timeouts?: { consumerIdleMs: number }) {
  const engines = { a: new MockEngine({ modelId: 'a-model', reply: 'one two three four five six seven eight', chunkDelayMs: 5 }) };
  const router = new LLMRouter(
    { models: [{ name: 'a', engine: 'mock', price: { input: 1, output: 2 } }], routing: { strategy: 'priority', retries: { max: 0 }, ...(timeouts ? { timeouts } : {}) } },
    { engines },
  );
  instrumentRouterWith(api, router, { tracer });
  return router;
}

async function finished(): Promise<{ request: ReadableSpan; attempts: ReadableSpan[] }> {
  await provider.forceFlush();
  const all = exporter.getFinishedSpans();
  const requests = all.filter((s) => s.kind === api.SpanKind.CLIENT);
  expect(requests).toHaveLength(1);
  const request = requests[0]!;
  return { request, attempts: all.filter((s) => s.kind === api.SpanKind.INTERNAL && s.parentSpanContext?.spanId === request.spanContext().spanId) };
}

/** Reads the route part and two text parts: deployment `a` is answering. */
async function started(router: LLMRouter, requestId: string) {
  const stream = router.stream('count', { requestId, model: 'a' });
  stream.result.catch(() => {});
  const it = stream[Symbol.asyncIterator]();
  const first = (await it.next()).value;
  expect(first).toMatchObject({ type: 'route', deployment: 'a' });
  let texts = 0;
  for (let i = 0; i < 20 && texts < 2; i++) if ((await it.next()).value?.type === 'text-delta') texts++;
  expect(texts).toBe(2);
  return { stream, it };
}

describe('the span of a stream abandoned after its first content', () => {
  it('cancelled (as the gateway does for a client that went away): names the deployment and provider that was answering', async () => {
    const router = setup();
    const { stream, it: iter } = await started(router, 'gone-1');
    stream.cancel?.(new DOMException('This operation was aborted', 'AbortError'));
    await iter.return?.();
    await stream.result.catch(() => {});
    const { request, attempts } = await finished();
    expect(request.attributes['error.type']).toBe('aborted');
    expect.soft(request.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock', 'llmrr.attempts': 1 });
    expect.soft(attempts.map((s) => s.attributes['llmrr.deployment'])).toEqual(['a']);
  });

  it('closed with return(): counts the attempt that was answering, and writes its child span', async () => {
    const router = setup();
    const { stream, it: iter } = await started(router, 'gone-2');
    await iter.return?.();
    await stream.result.catch(() => {});
    const { request, attempts } = await finished();
    expect(request.attributes['error.type']).toBe('aborted');
    expect.soft(request.attributes['llmrr.attempts']).toBe(1);
    expect.soft(request.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock' });
    expect.soft(attempts.map((s) => s.attributes['llmrr.deployment'])).toEqual(['a']);
  });

  it('abandoned by a consumer that stopped pulling (consumerIdleMs): names the deployment and provider, and counts the attempt', async () => {
    const router = setup({ consumerIdleMs: 40 });
    const { stream } = await started(router, 'gone-3');
    await expect(stream.result).rejects.toMatchObject({ code: 'timeout' });
    const { request, attempts } = await finished();
    expect(request.attributes['error.type']).toBe('timeout');
    expect.soft(request.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock', 'llmrr.attempts': 1 });
    expect.soft(attempts.map((s) => [s.attributes['llmrr.deployment'], s.attributes['error.type']])).toEqual([['a', 'timeout']]);
  });
});
