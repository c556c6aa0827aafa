/**
 * The spans of a cascade call (`routing.cascades`): one INTERNAL span for the caller's request (its request id, the
 * cascade's name as the requested model, the request's totals as billed), with each step's CLIENT span (`<id>:weak`,
 * `<id>:strong`) as its child, in one trace (docs/core/telemetry.md). Real OTel SDK (InMemorySpanExporter), real
 * LLMRouter, mock engines.
 */
import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import type { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from '../router/llm-router.js';
import type { CascadeVerifier } from '../router/cascade/types.js';
import type { RouterStreamPart } from '../router/types.js';
import { instrumentRouterWith } from './otel.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('otel.cascade.test');
afterEach(() => exporter.reset());

const WEAK_PRICE = { input: 1, output: 2 };
const STRONG_PRICE = { input: 10, output: 30 };

/**
 * Cascade `quick` over mock deployments `small` and `big`; its verifier escalates when `escalate` is true (`judge`: the
 * verifier instead).
 */
function setup(escalate: boolean, big: MockEngineOptions = {}, onStrongFailure: 'error' | 'weak' = 'error', small: MockEngineOptions = {}, judge?: CascadeVerifier) {
  const engines = {
    small: new MockEngine({ modelId: 'small-model', reply: 'seven', ...small }),
    big: new MockEngine({ modelId: 'big-model', reply: 'one two three four five six seven eight', ...big }),
  };
  const router = new LLMRouter(
    {
      models: [
        { name: 'small', engine: 'mock', price: WEAK_PRICE, priority: 1 },
        { name: 'big', engine: 'mock', price: STRONG_PRICE, priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'quick', weak: 'small', strong: 'big', verifier: 'judge', threshold: 0.5, onStrongFailure }] },
    },
    { engines, verifiers: { judge: judge ?? (() => (escalate ? 1 : 0)) } },
  );
  instrumentRouterWith(api, router, { tracer });
  return router;
}

async function finished(): Promise<{ cascade: ReadableSpan; steps: ReadableSpan[]; all: ReadableSpan[] }> {
  await provider.forceFlush();
  const all = exporter.getFinishedSpans();
  const tops = all.filter((s) => s.parentSpanContext === undefined);
  expect(tops).toHaveLength(1);
  const cascade = tops[0]!;
  const steps = all.filter((s) => s.kind === api.SpanKind.CLIENT);
  return { cascade, steps, all };
}

function expectStepsUnder(cascade: ReadableSpan, steps: ReadableSpan[], names: string[]): void {
  expect(steps.map((s) => s.attributes['llmrr.request_id'])).toEqual(names.map((n) => `${cascade.attributes['llmrr.request_id'] as string}:${n}`));
  for (const step of steps) {
    expect(step.spanContext().traceId).toBe(cascade.spanContext().traceId);
    expect(step.parentSpanContext?.spanId).toBe(cascade.spanContext().spanId);
  }
  expect(steps.map((s) => s.attributes['llmrr.cascade.step'])).toEqual(names);
}

const sumOf = (spans: ReadableSpan[], key: string): number => spans.reduce((n, s) => n + ((s.attributes[key] as number | undefined) ?? 0), 0);

describe('the spans of a cascade call', () => {
  it('generate, escalated: one span for the request with both steps as children, and the request totals', async () => {
    const router = setup(true);
    const result = await router.generate('question', { model: 'quick', requestId: 'casc-1' });
    const { cascade, steps, all } = await finished();
    // Searching the traces by the request id finds the request's span.
    expect(all.filter((s) => s.attributes['llmrr.request_id'] === 'casc-1')).toEqual([cascade]);
    expect(cascade.name).toBe('chat quick');
    expect(cascade.kind).toBe(api.SpanKind.INTERNAL);
    expect(cascade.status.code).toBe(api.SpanStatusCode.UNSET);
    expect(cascade.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'quick',
      'gen_ai.response.model': 'big-model',
      'gen_ai.provider.name': 'mock',
      'llmrr.stream': false,
      'llmrr.cascade': 'quick',
      'llmrr.cascade.verifier': 'judge',
      'llmrr.cascade.threshold': 0.5,
      'llmrr.cascade.score': 1,
      'llmrr.cascade.escalated': true,
      'llmrr.deployment': 'big',
      'gen_ai.usage.input_tokens': result.usage.inputTokens,
      'gen_ai.usage.output_tokens': result.usage.outputTokens,
      'llmrr.attempts': 2,
    });
    expect(cascade.attributes['llmrr.cost_usd']).toBeCloseTo(result.cost.totalUsd, 12);
    expectStepsUnder(cascade, steps, ['weak', 'strong']);
    expect(steps.map((s) => s.name)).toEqual(['chat small', 'chat big']);
    // The request's totals are its steps': summing the CLIENT spans counts each token once.
    expect(sumOf(steps, 'gen_ai.usage.output_tokens')).toBe(result.usage.outputTokens);
    expect(sumOf(steps, 'llmrr.cost_usd')).toBeCloseTo(result.cost.totalUsd, 12);
  });

  it('generate, accepted: the weak step alone under the request span', async () => {
    const router = setup(false);
    await router.generate('question', { model: 'quick', requestId: 'casc-2' });
    const { cascade, steps } = await finished();
    expect(cascade.attributes).toMatchObject({ 'llmrr.cascade.escalated': false, 'llmrr.cascade.score': 0, 'gen_ai.response.model': 'small-model', 'llmrr.request_id': 'casc-2' });
    expectStepsUnder(cascade, steps, ['weak']);
  });

  it('stream, escalated: the request span ends with the stream, the steps under it', async () => {
    const router = setup(true);
    const parts: RouterStreamPart[] = [];
    for await (const part of router.stream('question', { model: 'quick', requestId: 'casc-3' })) parts.push(part);
    expect(parts.at(-1)?.type).toBe('finish');
    const { cascade, steps } = await finished();
    expect(cascade.attributes).toMatchObject({ 'llmrr.stream': true, 'llmrr.cascade.escalated': true, 'llmrr.request_id': 'casc-3' });
    expect(cascade.attributes['llmrr.ttft_ms']).toBeGreaterThanOrEqual(0);
    expectStepsUnder(cascade, steps, ['weak', 'strong']);
  });

  it('the strong step fails: the request span is an error with what the steps were billed', async () => {
    const router = setup(true, { failures: [{ code: 'provider_unavailable' }] }, 'error');
    await expect(router.generate('question', { model: 'quick', requestId: 'casc-4' })).rejects.toMatchObject({ code: 'provider_unavailable' });
    const { cascade, steps } = await finished();
    expect(cascade.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(cascade.attributes['error.type']).toBe('provider_unavailable');
    expectStepsUnder(cascade, steps, ['weak', 'strong']);
    // The weak step was paid: its tokens and cost are the request's.
    expect(cascade.attributes['gen_ai.usage.output_tokens']).toBe(steps[0]!.attributes['gen_ai.usage.output_tokens']);
    expect(cascade.attributes['llmrr.cost_usd']).toBeCloseTo(steps[0]!.attributes['llmrr.cost_usd'] as number, 12);
  });

  it('a streamed cascade cancelled during the strong answer: aborted, billed the weak step and the partial strong answer', async () => {
    const router = setup(true, { chunkDelayMs: 5 });
    const stream = router.stream('question', { model: 'quick', requestId: 'casc-5' });
    stream.result.catch(() => {});
    const it = stream[Symbol.asyncIterator]();
    let texts = 0;
    for (let i = 0; i < 20 && texts < 2; i++) if ((await it.next()).value?.type === 'text-delta') texts++;
    expect(texts).toBe(2);
    stream.cancel?.(new DOMException('This operation was aborted', 'AbortError'));
    await it.return?.();
    await stream.result.catch(() => {});
    const { cascade, steps } = await finished();
    expect(cascade.attributes['error.type']).toBe('aborted');
    expect(cascade.status.code).toBe(api.SpanStatusCode.ERROR);
    expectStepsUnder(cascade, steps, ['weak', 'strong']);
    expect(steps[1]!.attributes['error.type']).toBe('aborted');
    expect(steps[1]!.attributes['llmrr.cost_usd']).toBeGreaterThan(0);
    expect(cascade.attributes['gen_ai.usage.output_tokens']).toBe(sumOf(steps, 'gen_ai.usage.output_tokens'));
    expect(cascade.attributes['llmrr.cost_usd']).toBeCloseTo(sumOf(steps, 'llmrr.cost_usd'), 12);
  });

  // A judge that paid for its judgement and says so: the request's bill (`spent()`, what the gateway bills) holds it.
  const VERIFIER_USD = 0.25;
  const paidJudge: CascadeVerifier = () => ({ score: 1, cost: { inputUsd: VERIFIER_USD, outputUsd: 0, totalUsd: VERIFIER_USD, estimated: false } });
  for (const how of ['cancel', 'return'] as const) {
    it(`a streamed cascade ${how === 'cancel' ? 'cancelled' : 'closed (iterator return)'} during the strong answer: the request span's cost has the verifier's`, async () => {
      const router = setup(true, { chunkDelayMs: 5 }, 'error', {}, paidJudge);
      const stream = router.stream('question', { model: 'quick', requestId: `casc-verifier-${how}` });
      stream.result.catch(() => {});
      const it = stream[Symbol.asyncIterator]();
      let texts = 0;
      for (let i = 0; i < 20 && texts < 2; i++) if ((await it.next()).value?.type === 'text-delta') texts++;
      expect(texts).toBe(2);
      expect(stream.spent!()!.cost.totalUsd).toBeGreaterThan(VERIFIER_USD);
      if (how === 'cancel') stream.cancel?.(new DOMException('This operation was aborted', 'AbortError'));
      await it.return?.();
      const error = await stream.result.then(
        () => undefined,
        (e: unknown) => e as LLMError,
      );
      expect(error?.code).toBe('aborted');
      // The error says the verifier's cost apart, as a strong step's failure does (the gateway adds it to `weak`'s).
      expect((error?.details as { cascade?: { verifierCost?: { totalUsd: number } } }).cascade?.verifierCost?.totalUsd).toBe(VERIFIER_USD);
      const { cascade, steps } = await finished();
      expect(cascade.attributes['error.type']).toBe('aborted');
      expectStepsUnder(cascade, steps, ['weak', 'strong']);
      expect(sumOf(steps, 'llmrr.cost_usd')).toBeGreaterThan(0);
      // What the steps were billed, plus the verifier's reported cost.
      expect(cascade.attributes['llmrr.cost_usd'] as number).toBeCloseTo(sumOf(steps, 'llmrr.cost_usd') + VERIFIER_USD, 12);
    });
  }

  it('a streamed cascade cancelled while its weak step runs: cascade:end after the step request:end, the step under the request span', async () => {
    const router = setup(true, {}, 'error', { delayMs: 2000 });
    const order: string[] = [];
    router.on('request:start', (e) => order.push(`start ${e.requestId}`));
    router.on('request:end', (e) => order.push(`end ${e.requestId}`));
    router.on('cascade:end', (e) => order.push(`cascade:end ${e.requestId}`));
    const stream = router.stream('question', { model: 'quick', requestId: 'casc-weak-cancel' });
    stream.result.catch(() => {});
    const it = stream[Symbol.asyncIterator]();
    const first = it.next();
    await vi.waitFor(() => expect(order).toContain('start casc-weak-cancel:weak'), { timeout: 10_000 });
    stream.cancel?.(new DOMException('This operation was aborted', 'AbortError'));
    await first;
    await vi.waitFor(() => expect(order).toContain('cascade:end casc-weak-cancel'), { timeout: 10_000 });
    expect(order).toEqual(['start casc-weak-cancel:weak', 'end casc-weak-cancel:weak', 'cascade:end casc-weak-cancel']);
    const { cascade, steps } = await finished();
    expect(cascade.attributes).toMatchObject({ 'llmrr.request_id': 'casc-weak-cancel', 'error.type': 'aborted' });
    expectStepsUnder(cascade, steps, ['weak']);
  });

  it('a cascade the call may not use: a request span with the error, no steps', async () => {
    const router = setup(true);
    await expect(router.generate('question', { model: 'quick', requestId: 'casc-6', allowedModels: ['small'] })).rejects.toMatchObject({ code: 'permission_denied' });
    const { cascade, steps } = await finished();
    expect(cascade.attributes).toMatchObject({ 'error.type': 'permission_denied', 'llmrr.request_id': 'casc-6', 'gen_ai.request.model': 'quick' });
    expect(steps).toEqual([]);
  });
});
