/**
 * A stream the router abandons because `totalMs` fired while its consumer was not reading ends with `timeout`;
 * its attempt is recorded with the same code, so the request span and its attempt span say the same
 * `error.type` (as for a plain totalMs timeout), with no strike.
 */
import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
import { instrumentRouterWith } from './otel.js';

describe('totalMs abandonment in telemetry', () => {
  it('the attempt span of a totalMs-abandoned stream has the same error.type as its request span (timeout)', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const engines = { a: new MockEngine({ modelId: 'a-model', reply: 'one two three four five six seven eight', chunkDelayMs: 5 }) };
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'mock', price: { input: 1, output: 2 } }], routing: { strategy: 'priority', retries: { max: 0 }, timeouts: { totalMs: 150 } } },
      { engines },
    );
    instrumentRouterWith(api, router, { tracer: provider.getTracer('review') });
    const stream = router.stream('count', { requestId: 'tm-1', model: 'a' });
    stream.result.catch(() => {});
    const iter = stream[Symbol.asyncIterator]();
    let texts = 0;
    for (let i = 0; i < 20 && texts < 2; i++) if ((await iter.next()).value?.type === 'text-delta') texts++;
    // The consumer stops pulling: totalMs fires while the router waits for it.
    await expect(stream.result).rejects.toMatchObject({ code: 'timeout' });
    await provider.forceFlush();
    const all = exporter.getFinishedSpans();
    const request = all.find((s) => s.kind === api.SpanKind.CLIENT)!;
    const attempts = all.filter((s) => s.kind === api.SpanKind.INTERNAL && s.parentSpanContext?.spanId === request.spanContext().spanId);
    expect(request.attributes['error.type']).toBe('timeout');
    expect(attempts.map((s) => s.attributes['error.type'])).toEqual(['timeout']);
    await router.close();
  });
});
