/**
 * The span of a stream whose consumer went away after the answer started (a client that disconnects
 * mid-stream: the gateway cancels the router stream, then closes it; a consumer that stops pulling): it ends
 * with `error.type` `aborted` (`timeout` for one that stopped pulling: consumerIdleMs fired) and still names the deployment and provider that was answering, counts that
 * attempt in `llmrr.attempts` and writes its INTERNAL child span (docs/core/telemetry.md). It carries what the partial
 * answer was billed (`gen_ai.usage.*`, `llmrr.cost_usd`: the tokens estimated from what came, as the gateway's ledger
 * bills them), as does the span of a stream its upstream broke off.
 * Real OTel SDK (InMemorySpanExporter), real LLMRouter, mock engine.
 */
import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import { estimateTokens } from '../pricing/estimate-tokens.js';
import { LLMRouter } from '../router/llm-router.js';
import { instrumentRouterWith } from './otel.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('otel.review');
afterEach(() => exporter.reset());

function setup(timeouts?: { consumerIdleMs: number }, failures?: MockEngineOptions['failures']) {
  const engines = { a: new MockEngine({ modelId: 'a-model', reply: 'one two three four five six seven eight', chunkDelayMs: 5, ...(failures ? { failures } : {}) }) };
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
  let sent = '';
  for (let i = 0; i < 20 && texts < 2; i++) {
    const part = (await it.next()).value;
    if (part?.type !== 'text-delta') continue;
    texts++;
    sent += part.delta;
  }
  expect(texts).toBe(2);
  return { stream, it, sent };
}

/** What the request span says was billed: the partial answer's tokens (estimated from what came) and their cost. */
function expectBilled(request: ReadableSpan, sent: string, inputTokens?: number): void {
  const a = request.attributes;
  expect(a['gen_ai.usage.output_tokens']).toBe(estimateTokens(sent));
  expect(a['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  if (inputTokens !== undefined) expect(a['gen_ai.usage.input_tokens']).toBe(inputTokens);
  expect(a['llmrr.usage.estimated']).toBe(true);
  // Price { input: 1, output: 2 } USD per 1M tokens.
  expect(a['llmrr.cost_usd']).toBeCloseTo(((a['gen_ai.usage.input_tokens'] as number) * 1 + (a['gen_ai.usage.output_tokens'] as number) * 2) / 1e6, 12);
}

describe('the span of a stream abandoned after its first content', () => {
  it('cancelled (as the gateway does for a client that went away): names the deployment and provider that was answering', async () => {
    const router = setup();
    const { stream, it: iter, sent } = await started(router, 'gone-1');
    stream.cancel?.(new DOMException('This operation was aborted', 'AbortError'));
    await iter.return?.();
    await stream.result.catch(() => {});
    const { request, attempts } = await finished();
    expect(request.attributes['error.type']).toBe('aborted');
    expect(request.status.code).toBe(api.SpanStatusCode.ERROR);
    expect.soft(request.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock', 'llmrr.attempts': 1 });
    expect.soft(attempts.map((s) => s.attributes['llmrr.deployment'])).toEqual(['a']);
    expectBilled(request, sent);
  });

  it('closed with return(): counts the attempt that was answering, and writes its child span', async () => {
    const router = setup();
    const { stream, it: iter, sent } = await started(router, 'gone-2');
    await iter.return?.();
    await stream.result.catch(() => {});
    const { request, attempts } = await finished();
    expect(request.attributes['error.type']).toBe('aborted');
    expect.soft(request.attributes['llmrr.attempts']).toBe(1);
    expect.soft(request.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock' });
    expect.soft(attempts.map((s) => s.attributes['llmrr.deployment'])).toEqual(['a']);
    expectBilled(request, sent);
  });

  it('broken off by its upstream after content: the span has the partial tokens and their cost, error.type and status ERROR', async () => {
    const router = setup(undefined, [{ code: 'provider_unavailable', afterChunks: 3 }]);
    const stream = router.stream('count', { requestId: 'broken-1', model: 'a' });
    let sent = '';
    let last: unknown;
    for await (const part of stream) {
      if (part.type === 'text-delta') sent += part.delta;
      last = part;
    }
    expect(last).toMatchObject({ type: 'error', error: { code: 'provider_unavailable' } });
    expect(sent).not.toBe('');
    const { request } = await finished();
    expect(request.attributes['error.type']).toBe('provider_unavailable');
    expect(request.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(request.attributes['llmrr.deployment']).toBe('a');
    expectBilled(request, sent);
  });

  it('a stream that failed before any content consumed nothing: no usage, no cost', async () => {
    const router = setup(undefined, [{ code: 'provider_unavailable', afterChunks: 0 }]);
    const stream = router.stream('count', { requestId: 'broken-0', model: 'a' });
    for await (const part of stream) void part;
    const { request } = await finished();
    expect(request.attributes['error.type']).toBe('provider_unavailable');
    expect(request.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
    expect(request.attributes['llmrr.cost_usd']).toBeUndefined();
  });

  it('abandoned by a consumer that stopped pulling (consumerIdleMs): names the deployment and provider, and counts the attempt', async () => {
    const router = setup({ consumerIdleMs: 40 });
    const { stream, sent } = await started(router, 'gone-3');
    await expect(stream.result).rejects.toMatchObject({ code: 'timeout' });
    const { request, attempts } = await finished();
    expect(request.attributes['error.type']).toBe('timeout');
    expect.soft(request.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock', 'llmrr.attempts': 1 });
    expect.soft(attempts.map((s) => [s.attributes['llmrr.deployment'], s.attributes['error.type']])).toEqual([['a', 'timeout']]);
    expectBilled(request, sent);
  });
});
