import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import { LLMError } from '../errors/llm-error.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterEvents, RouterOptions, RouterResult } from '../router/types.js';
import type { GenerateRequest } from '../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { instrumentRouter, instrumentRouterWith, type InstrumentRouterOptions, type RequestStartDetails } from './otel.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('otel.test');

afterEach(() => exporter.reset());

/** Mock deployments `a`, `b`, ... (priorities 1, 2, ...; model ids `a-model`, ...) with fast retries. */
function setup(mocks: Record<string, MockEngineOptions>, cache?: RouterConfigInput['cache'], options: RouterOptions = {}) {
  const engines: Record<string, MockEngine> = {};
  const models = Object.entries(mocks).map(([name, o], i) => {
    engines[name] = new MockEngine({ modelId: `${name}-model`, ...o });
    return { name, engine: 'mock', priority: i + 1, price: { input: 1, output: 2 } };
  });
  const router = new LLMRouter(
    { models, routing: { strategy: 'priority', retries: { max: 2, initialDelayMs: 1, maxDelayMs: 2 } }, ...(cache ? { cache } : {}) },
    { engines, sleep: async () => {}, ...options },
  );
  return { router, engines };
}

function instrument(router: LLMRouter, options: InstrumentRouterOptions = {}): () => void {
  return instrumentRouterWith(api, router, { tracer, ...options });
}

/** Exported spans, in the order they ended (exports are asynchronous: flushed first). */
async function spans(): Promise<ReadableSpan[]> {
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}
/** The request spans (CLIENT). */
const requestSpans = async (): Promise<ReadableSpan[]> => (await spans()).filter((s) => s.kind === api.SpanKind.CLIENT);
const childrenOf = async (parent: ReadableSpan): Promise<ReadableSpan[]> =>
  (await spans()).filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId && s.spanContext().traceId === parent.spanContext().traceId);
/** An HrTime ([seconds, nanoseconds]) in milliseconds. */
const ms = (t: api.HrTime): number => t[0] * 1e3 + t[1] / 1e6;
const only = <T>(list: T[]): T => {
  expect(list).toHaveLength(1);
  return list[0]!;
};

/** A router over one mock deployment whose remote token count answers only when released (`held`): its span stays open meanwhile. */
function heldCountRouter(): { router: LLMRouter; held: Array<() => void> } {
  const engine = new MockEngine({ modelId: 'a-model' });
  const held: Array<() => void> = [];
  const local = engine.countTokens.bind(engine);
  Object.assign(engine, {
    countTokensRemote: true,
    countTokens: (request: GenerateRequest) => new Promise<number>((resolve) => held.push(() => resolve(local(request)))),
  });
  return { router: new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'priority' } }, { engines: { a: engine }, env: {} }), held };
}

describe('instrumentRouterWith', () => {
  it('generate: one CLIENT span named "{operation} {model}" with GenAI attributes, and a child span for the attempt', async () => {
    const { router } = setup({ a: {} });
    instrument(router);
    const result = await router.generate('hello there', { requestId: 'req-1', metadata: { tenant: 't1' } });

    const span = only(await requestSpans());
    expect(span.name).toBe('chat a-model');
    expect(span.kind).toBe(api.SpanKind.CLIENT);
    expect(span.status.code).toBe(api.SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'mock',
      'gen_ai.request.model': 'a-model',
      'gen_ai.response.model': 'a-model',
      'gen_ai.response.id': 'mock-1',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': result.usage.inputTokens,
      'gen_ai.usage.output_tokens': result.usage.outputTokens,
      'llmrr.request_id': 'req-1',
      'llmrr.tenant': 't1',
      'llmrr.stream': false,
      'llmrr.deployment': 'a',
      'llmrr.cache_hit': false,
      'llmrr.attempts': 1,
    });
    expect(result.usage.inputTokens).toBe(2);
    expect(span.attributes['llmrr.cost_usd']).toBeCloseTo(result.cost.totalUsd, 12);
    expect(result.cost.totalUsd).toBeGreaterThan(0);
    expect(span.attributes['error.type']).toBeUndefined();
    // The mock reports no prompt-cache use: no cache attributes (not zeros).
    expect(Object.keys(span.attributes).filter((k) => k.includes('cache_read') || k.includes('cache_creation'))).toEqual([]);

    const child = only(await childrenOf(span));
    expect(child.name).toBe('llmrr.attempt a');
    expect(child.kind).toBe(api.SpanKind.INTERNAL);
    expect(child.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'gen_ai.provider.name': 'mock', 'gen_ai.request.model': 'a-model' });
    // The attempt lies within its request.
    expect(ms(child.startTime)).toBeGreaterThanOrEqual(ms(span.startTime) - 0.001);
    expect(ms(child.endTime)).toBeLessThanOrEqual(ms(span.endTime) + 0.001);
  });

  it('a deployment skipped for its engine refusal is no attempt sent: llmrr.attempts counts the one request, the skipped span says so', async () => {
    // `a`'s engine (created when the call reaches it) refuses the request before sending anything.
    const refusing = Object.assign(new MockEngine({ modelId: 'a-model' }), { refusal: () => ({ param: 'messages.0', message: 'messages.0: refused' }) });
    const router = new LLMRouter(
      { models: [{ name: 'a', engine: 'refusing', priority: 1 }, { name: 'b', engine: 'mock', priority: 2 }], routing: { strategy: 'priority' } },
      { engineFactories: { refusing: () => refusing, mock: () => new MockEngine({ modelId: 'b-model' }) } },
    );
    instrument(router);
    const result = await router.generate('hi');
    expect(result.attempts.map((a) => [a.deployment, a.skipped])).toEqual([
      ['a', true],
      ['b', undefined],
    ]);
    const span = only(await requestSpans());
    expect(span.attributes['llmrr.attempts']).toBe(1);
    const skipped = (await childrenOf(span)).find((c) => c.name === 'llmrr.attempt a')!;
    expect(skipped.attributes['llmrr.skipped']).toBe(true);
    await router.close();
  });

  it('stream: the span ends when the stream ends, with usage and time to first token', async () => {
    const { router } = setup({ a: { reply: 'one two three four' } });
    instrument(router);
    const stream = router.stream('count to four', { requestId: 'req-s' });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(await spans()).toHaveLength(0); // still streaming: nothing ended yet
    for (let r = await it.next(), n = 0; !r.done && n < 100; r = await it.next(), n++);
    const result = await stream.result;

    const span = only(await requestSpans());
    expect(span.name).toBe('chat a-model');
    expect(span.attributes).toMatchObject({
      'llmrr.stream': true,
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.usage.output_tokens': 4,
      'gen_ai.response.finish_reasons': ['stop'],
      'llmrr.ttft_ms': result.timeToFirstTokenMs,
    });
    expect(typeof span.attributes['llmrr.ttft_ms']).toBe('number');
  });

  it('error: status ERROR and error.type = our code, with an event per failed attempt and retry', async () => {
    const { router } = setup({ a: { failures: [{ code: 'provider_unavailable', times: 10 }] } });
    instrument(router);
    await expect(router.generate('x', { fallbacks: [] })).rejects.toMatchObject({ code: 'provider_unavailable' });

    const span = only(await requestSpans());
    expect(span.status).toMatchObject({ code: api.SpanStatusCode.ERROR });
    expect(span.status.message).toMatch(/provider_unavailable/);
    expect(span.attributes).toMatchObject({ 'error.type': 'provider_unavailable', 'gen_ai.provider.name': 'mock', 'llmrr.attempts': 3 });
    expect(span.name).toBe('chat'); // no model was named and none answered
    expect(span.events.map((e) => e.name)).toEqual(['llmrr.attempt.error', 'llmrr.retry', 'llmrr.attempt.error', 'llmrr.retry', 'llmrr.attempt.error']);
    expect(span.events[0]!.attributes).toMatchObject({ 'llmrr.deployment': 'a', 'error.type': 'provider_unavailable', 'llmrr.retryable': true });
  
    // The router reports the failed request's attempts: one ERROR child span each.
    const children = (await childrenOf(span)).sort((x, y) => ms(x.startTime) - ms(y.startTime));
    expect(children.map((c) => c.name)).toEqual(['llmrr.attempt a', 'llmrr.attempt a', 'llmrr.attempt a']);
    expect(children.map((c) => c.status.code)).toEqual([api.SpanStatusCode.ERROR, api.SpanStatusCode.ERROR, api.SpanStatusCode.ERROR]);
    expect(children.map((c) => c.attributes['llmrr.attempt'])).toEqual([1, 2, 3]);
    expect(children.every((c) => c.attributes['error.type'] === 'provider_unavailable')).toBe(true);
    for (const c of children) expect(ms(c.endTime)).toBeLessThanOrEqual(ms(span.endTime) + 0.001);
  });

  it('the router sends the request parameters, the requested model and the strategy with request:start', async () => {
    const { router } = setup({ a: {}, b: {} });
    instrument(router);
    await router.generate('hello', { model: 'b', maxTokens: 32, temperature: 0.3, topP: 0.8, seed: 7, strategy: 'cost-optimized' });
    const named = only(await requestSpans());
    expect(named.name).toBe('chat b');
    expect(named.attributes).toMatchObject({
      'gen_ai.request.model': 'b',
      'gen_ai.response.model': 'b-model',
      'gen_ai.request.max_tokens': 32,
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.top_p': 0.8,
      'gen_ai.request.seed': 7,
      'llmrr.strategy': 'cost-optimized',
    });
    exporter.reset();
    // No model named: the chosen deployment's model; the router's default strategy; no sampling attributes.
    await router.generate('hello');
    const chosen = only(await requestSpans());
    expect(chosen.name).toBe('chat a-model');
    expect(chosen.attributes).toMatchObject({ 'gen_ai.request.model': 'a-model', 'llmrr.strategy': 'priority' });
    expect(chosen.attributes['gen_ai.request.max_tokens']).toBeUndefined();
    expect(chosen.attributes['gen_ai.request.temperature']).toBeUndefined();
  });

  it("a v3 tenant's preferred strategy is the span's strategy when the call names none; embeddings carry no request parameters", async () => {
    const engines = { a: new MockEngine({ modelId: 'a-model' }) };
    const router = new LLMRouter(
      { version: 3, models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'priority' }, tenants: [{ id: 'acme', preferences: { strategy: 'cost-optimized' } }] },
      { engines },
    );
    instrument(router, { captureContent: true });
    await router.generate('hi', { tenant: 'acme' });
    await router.embed('text', { tenant: 'acme', strategy: 'random' });
    const [chat, embed] = await requestSpans();
    expect(chat!.attributes['llmrr.strategy']).toBe('cost-optimized');
    expect(JSON.parse(chat!.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }]);
    expect(embed!.attributes['llmrr.strategy']).toBe('random');
    expect(embed!.attributes['gen_ai.request.max_tokens']).toBeUndefined();
    expect(embed!.attributes['gen_ai.input.messages']).toBeUndefined();
  });

  it('an invalid request ends its span with error.type invalid_request', async () => {
    const { router } = setup({ a: { failures: [{ code: 'invalid_request', message: 'messages.0: bad' }] } });
    instrument(router);
    await expect(router.generate('x')).rejects.toBeInstanceOf(LLMError);
    const span = only(await requestSpans());
    expect(span.attributes['error.type']).toBe('invalid_request');
    expect(span.events.map((e) => e.name)).toEqual(['llmrr.attempt.error']); // not retried
  });

  it('fallback: span events in order, and a child span per attempt (failed ones with ERROR)', async () => {
    const { router } = setup({ a: { failures: [{ code: 'provider_unavailable', times: 3 }] }, b: {} });
    instrument(router);
    const result = await router.generate('x');
    expect(result.deployment).toBe('b');

    const span = only(await requestSpans());
    expect(span.name).toBe('chat b-model');
    expect(span.events.map((e) => e.name)).toEqual([
      'llmrr.attempt.error',
      'llmrr.retry',
      'llmrr.attempt.error',
      'llmrr.retry',
      'llmrr.attempt.error',
      'llmrr.fallback',
    ]);
    expect(span.events.at(-1)!.attributes).toMatchObject({ 'llmrr.from': 'a', 'llmrr.to': 'b', 'error.type': 'provider_unavailable' });
    expect(span.attributes).toMatchObject({ 'llmrr.deployment': 'b', 'llmrr.attempts': 4, 'gen_ai.response.model': 'b-model' });

    const children = (await childrenOf(span)).sort((x, y) => ms(x.startTime) - ms(y.startTime));
    expect(children.map((c) => c.name)).toEqual(['llmrr.attempt a', 'llmrr.attempt a', 'llmrr.attempt a', 'llmrr.attempt b']);
    expect(children.map((c) => c.status.code)).toEqual([api.SpanStatusCode.ERROR, api.SpanStatusCode.ERROR, api.SpanStatusCode.ERROR, api.SpanStatusCode.UNSET]);
    expect(children[0]!.attributes['error.type']).toBe('provider_unavailable');
    expect(children[3]!.attributes).toMatchObject({ 'gen_ai.request.model': 'b-model' });
  });

  it('hedge: an event, and the hedged attempt\'s child span marked llmrr.hedge', async () => {
    const router = new LLMRouter(
      {
        models: [
          { name: 'slow', engine: 'mock', priority: 1 },
          { name: 'fast', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'priority', hedging: { enabled: true, delayMs: 30 } },
      },
      { engines: { slow: new MockEngine({ delayMs: 5000 }), fast: new MockEngine({ reply: 'fast', delayMs: 5 }) } },
    );
    instrument(router);
    const r = await router.generate('x');
    expect(r.deployment).toBe('fast');
    const span = only(await requestSpans());
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([['llmrr.hedge', { 'llmrr.deployment': 'fast' }]]);
    const child = only(await childrenOf(span));
    expect(child.attributes).toMatchObject({ 'llmrr.deployment': 'fast', 'llmrr.hedge': true });
    await router.close();
  });

  it('cache hit: an event and llmrr.cache_hit, no token usage (nothing was consumed), no attempt spans', async () => {
    const { router } = setup({ a: {} }, { exact: { enabled: true } });
    instrument(router);
    await router.generate('same question');
    exporter.reset();
    const hit = await router.generate('same question');
    expect(hit.cached).toBe('exact');

    const span = only(await requestSpans());
    expect(span.attributes).toMatchObject({ 'llmrr.cache_hit': true, 'llmrr.cache_kind': 'exact', 'llmrr.cost_usd': 0, 'llmrr.attempts': 0, 'gen_ai.request.model': 'a-model' });
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([['llmrr.cache.hit', { 'llmrr.cache_kind': 'exact', 'llmrr.deployment': 'a' }]]);
    expect(await childrenOf(span)).toHaveLength(0);
  });

  it('embed: an "embeddings {model}" span with input tokens', async () => {
    const { router } = setup({ a: {} });
    instrument(router);
    const result = await router.embed(['one two', 'three']);
    const span = only(await requestSpans());
    expect(span.name).toBe('embeddings a-model');
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': result.usage.inputTokens, 'llmrr.deployment': 'a' });
    expect(result.usage.inputTokens).toBe(3);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('countTokens: a "count_tokens {model}" CLIENT span with the count (llmrr.token_count, never usage: nothing was billed); a failed count ends it in error', async () => {
    const { router } = setup({ a: {}, b: {} });
    instrument(router);
    const named = await router.countTokens('one two three', { model: 'b', requestId: 'count-1', metadata: { tenant: 't1' } });
    const unnamed = await router.countTokens('one two three', { requestId: 'count-2' });
    await expect(router.countTokens('hi', { model: 'nope', requestId: 'count-3' })).rejects.toMatchObject({ code: 'model_not_found' });
    const [first, second, failed] = await requestSpans();
    expect(first!.name).toBe('count_tokens b');
    expect(first!.attributes).toEqual({
      'gen_ai.operation.name': 'count_tokens',
      'gen_ai.request.model': 'b',
      'gen_ai.provider.name': 'mock',
      'gen_ai.response.model': 'b-model',
      'llmrr.request_id': 'count-1',
      'llmrr.tenant': 't1',
      'llmrr.deployment': 'b',
      'llmrr.token_count': named.tokens,
      'llmrr.token_count.exact': named.exact,
    });
    // No model named: the deployment that counted is the request's model, as for a call.
    expect([second!.name, second!.attributes['gen_ai.request.model'], second!.attributes['llmrr.token_count']]).toEqual(['count_tokens a-model', 'a-model', unnamed.tokens]);
    expect([failed!.name, failed!.status.code, failed!.attributes['error.type'], failed!.attributes['llmrr.token_count']]).toEqual(['count_tokens nope', api.SpanStatusCode.ERROR, 'model_not_found', undefined]);
    // A count is no attempt and no model call: no child spans.
    expect(await spans()).toHaveLength(3);
  });

  it('operationName chooses the operation (text_completion for a completions endpoint)', async () => {
    const { router } = setup({ a: {} });
    instrument(router, { operationName: (e) => (e.metadata.endpoint === '/v1/completions' ? 'text_completion' : undefined) });
    await router.generate('x', { metadata: { endpoint: '/v1/completions' } });
    await router.generate('x', { metadata: { endpoint: '/v1/chat/completions' } });
    expect((await requestSpans()).map((s) => s.name)).toEqual(['text_completion a-model', 'chat a-model']);
  });

  it('captures no content by default; captureContent records the answer as gen_ai.output.messages', async () => {
    const PROMPT = 'my secret prompt 7431';
    const REPLY = 'the confidential answer 9902';
    const { router } = setup({ a: { reply: REPLY } });
    const dispose = instrument(router);
    await router.generate(PROMPT);
    const s = router.stream(PROMPT);
    for await (const _ of s);
    const dump = JSON.stringify((await spans()).map((x) => ({ name: x.name, attributes: x.attributes, events: x.events, status: x.status })));
    expect((await spans()).length).toBeGreaterThanOrEqual(4);
    expect(dump).not.toContain('secret');
    expect(dump).not.toContain('confidential');
    expect(dump).not.toContain('gen_ai.input.messages');
    expect(dump).not.toContain('gen_ai.output.messages');
    dispose();

    exporter.reset();
    instrument(router, { captureContent: true });
    await router.generate(PROMPT);
    const span = only(await requestSpans());
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: REPLY }], finish_reason: 'stop' },
    ]);
  });

  it('dispose removes every listener and ends the spans still open', async () => {
    const source = new TypedEmitter<RouterEvents>();
    const dispose = instrumentRouterWith(api, source, { tracer });
    const names: Array<keyof RouterEvents> = ['request:start', 'request:end', 'attempt:error', 'retry', 'fallback', 'hedge', 'cache:hit'];
    expect(names.filter((n) => source.has(n))).toEqual(names);
    source.emit('request:start', { requestId: 'r1', stream: true, kind: 'stream', metadata: {} });
    dispose();
    expect(names.filter((n) => source.has(n)) as string[]).toEqual([]);
    expect(source.has('circuit')).toBe(false);
    const span = only(await spans());
    expect(span.attributes['llmrr.incomplete']).toBe('disposed');
    dispose(); // twice is harmless

    // A real router: no span after dispose.
    const { router } = setup({ a: {} });
    const stop = instrument(router);
    stop();
    exporter.reset();
    await router.generate('x');
    await router.embed('x');
    expect(await spans()).toHaveLength(0);
  });

  it('a stream that is never read does not leak: past maxOpenSpans the oldest span is ended as evicted', async () => {
    const { router } = setup({ a: {} });
    instrument(router, { maxOpenSpans: 2 });
    router.stream('never read 1', { requestId: 'n1' });
    router.stream('never read 2', { requestId: 'n2' });
    expect(await spans()).toHaveLength(0);
    router.stream('never read 3', { requestId: 'n3' });
    const evicted = only(await spans());
    expect(evicted.attributes).toMatchObject({ 'llmrr.request_id': 'n1', 'llmrr.incomplete': 'evicted' });
    await router.generate('x', { requestId: 'g' });
    expect((await requestSpans()).map((s) => s.attributes['llmrr.request_id'])).toEqual(['n1', 'n2', 'g']);
  });

  it('maxOpenSpans bounds the spans of every kind together: a token count past it evicts the oldest (an unread stream), and a request past it the count', async () => {
    const { router, held } = heldCountRouter();
    const stop = instrument(router, { maxOpenSpans: 1 });
    try {
      router.stream('never read', { model: 'a', requestId: 'unread' }).result.catch(() => {});
      const count = router.countTokens('held', { model: 'a', requestId: 'count-1' });
      await expect.poll(() => held.length, { timeout: 8_000 }).toBe(1);
      expect((await spans()).map((s) => [s.attributes['llmrr.request_id'], s.attributes['llmrr.incomplete']])).toEqual([['unread', 'evicted']]);
      held.shift()!();
      await count;
      // The count ended on its own: its place is free again (the next span evicts nothing).
      router.stream('never read 2', { model: 'a', requestId: 'unread-2' }).result.catch(() => {});
      expect((await spans()).map((s) => [s.attributes['llmrr.request_id'], s.attributes['llmrr.incomplete']])).toEqual([
        ['unread', 'evicted'],
        ['count-1', undefined],
      ]);
      const second = router.countTokens('held again', { model: 'a', requestId: 'count-2' });
      await expect.poll(() => held.length, { timeout: 8_000 }).toBe(1);
      router.stream('never read 3', { model: 'a', requestId: 'unread-3' }).result.catch(() => {});
      held.shift()!();
      await second;
      expect((await spans()).map((s) => [s.attributes['llmrr.request_id'], s.attributes['llmrr.incomplete']])).toEqual([
        ['unread', 'evicted'],
        ['count-1', undefined],
        ['unread-2', 'evicted'],
        ['count-2', 'evicted'],
      ]);
    } finally {
      stop();
      await router.close();
    }
  });

  it('maxOpenSpans evicts the oldest open span of any kind also when a request id was in flight twice (a count started after it is not the oldest)', async () => {
    const { router, held } = heldCountRouter();
    const stop = instrument(router, { maxOpenSpans: 4 });
    const endedSpans = async () => (await spans()).map((s) => [s.attributes['llmrr.request_id'], s.attributes['llmrr.incomplete']]);
    try {
      // Open, oldest first: x (1st), y, the count, x (2nd) - 4 spans, none evicted.
      const x1 = router.stream('never read', { model: 'a', requestId: 'x' });
      x1.result.catch(() => {});
      router.stream('never read', { model: 'a', requestId: 'y' }).result.catch(() => {});
      const count = router.countTokens('held', { model: 'a', requestId: 'count' });
      await expect.poll(() => held.length, { timeout: 8_000 }).toBe(1);
      router.stream('never read', { model: 'a', requestId: 'x' }).result.catch(() => {});
      // The first x ends (cancelled): open are y, the count, x (2nd), oldest first.
      x1.cancel!();
      await expect.poll(endedSpans, { timeout: 8_000 }).toEqual([['x', undefined]]);
      router.stream('never read', { model: 'a', requestId: 'z1' }).result.catch(() => {});
      expect(await endedSpans()).toEqual([['x', undefined]]);
      // One past the budget: the oldest open span is y's (an unread stream), which is the one to be evicted.
      router.stream('never read', { model: 'a', requestId: 'z2' }).result.catch(() => {});
      held.shift()!();
      await count;
      expect(await endedSpans()).toEqual([
        ['x', undefined],
        ['y', 'evicted'],
        ['count', undefined],
      ]);
    } finally {
      for (const release of held) release();
      stop();
      await router.close();
    }
  });

  it('the same request id in flight twice gives two spans', async () => {
    const { router } = setup({ a: { delayMs: 5 } });
    instrument(router);
    await Promise.all([router.generate('one', { requestId: 'dup' }), router.generate('two', { requestId: 'dup' })]);
    expect(await requestSpans()).toHaveLength(2);
    expect((await requestSpans()).every((s) => s.attributes['gen_ai.usage.input_tokens'] === 1)).toBe(true);
  });

  it('reads request parameters, the requested model and the strategy when request:start carries them', async () => {
    // Another event source that sends them (LLMRouter does too, tested above):
    const source = new TypedEmitter<RouterEvents>();
    instrumentRouterWith(api, source, { tracer, captureContent: true });
    const start: RouterEvents['request:start'] & RequestStartDetails = {
      requestId: 'p1',
      stream: false,
      kind: 'generate',
      metadata: {},
      model: 'fast',
      strategy: 'cost-optimized',
      request: {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'f', arguments: '{"x":1}' }] },
          { role: 'tool', toolCallId: 'c1', content: 'ok' },
        ],
        maxTokens: 64,
        temperature: 0.2,
        topP: 0.9,
        stop: ['END'],
        responseFormat: { type: 'json_object' },
      },
    };
    source.emit('request:start', start);
    const result = {
      text: 'done',
      toolCalls: [],
      finishReason: 'length',
      usage: { inputTokens: 5, outputTokens: 64, totalTokens: 69, cachedInputTokens: 2, cacheWriteInputTokens: 3, cacheWrite1hInputTokens: 1 },
      requestId: 'p1',
      deployment: 'gpt',
      model: 'gpt-4o-mini',
      provider: 'openai-compatible',
      cost: { inputUsd: 0, outputUsd: 0, totalUsd: 0.001, estimated: false },
      latencyMs: 10,
      cached: false,
      attempts: [{ deployment: 'gpt', attempt: 0, ok: true, latencyMs: 9 }],
      providerModel: 'gpt-4o-mini-2024-07-18',
    } satisfies RouterResult;
    source.emit('request:end', { requestId: 'p1', stream: false, kind: 'generate', result, metadata: {} });

    const span = only(await requestSpans());
    expect(span.name).toBe('chat fast');
    expect(span.attributes).toMatchObject({
      'gen_ai.request.model': 'fast',
      'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.stop_sequences': ['END'],
      'gen_ai.output.type': 'json',
      'gen_ai.response.finish_reasons': ['length'],
      'gen_ai.usage.cache_read.input_tokens': 2,
      'gen_ai.usage.cache_creation.input_tokens': 3,
      'llmrr.usage.cache_creation_1h.input_tokens': 1,
      'llmrr.strategy': 'cost-optimized',
    });
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'f', arguments: { x: 1 } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 'ok' }] },
    ]);
  });

  it('rejects what is not a router or not the API, naming the argument', () => {
    expect(() => instrumentRouterWith(api, {} as unknown as LLMRouter)).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'router' }));
    expect(() => instrumentRouterWith({} as typeof api, new TypedEmitter<RouterEvents>())).toThrow(expect.objectContaining({ param: 'api' }));
    expect(() => instrumentRouterWith(api, new TypedEmitter<RouterEvents>(), { maxOpenSpans: 0 })).toThrow(expect.objectContaining({ param: 'maxOpenSpans' }));
  });
});

describe('instrumentRouter', () => {
  it('imports @opentelemetry/api on demand and uses the global tracer provider when no tracer is given', async () => {
    const { router } = setup({ a: {} });
    expect(api.trace.setGlobalTracerProvider(provider)).toBe(true);
    try {
      const dispose = await instrumentRouter(router);
      await router.generate('x');
      dispose();
      const span = only(await requestSpans());
      expect(span.instrumentationScope.name).toBe('@llmrr/core');
    } finally {
      api.trace.disable();
    }
  });

  it('without @opentelemetry/api installed: engine_unavailable naming the package', async () => {
    const missing = Object.assign(new Error("Cannot find package '@opentelemetry/api' imported from /x.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const { router } = setup({ a: {} });
    await expect(instrumentRouter(router, { importer: () => Promise.reject(missing) })).rejects.toMatchObject({
      code: 'engine_unavailable',
      message: expect.stringMatching(/@opentelemetry\/api.*not installed/),
    });
  });
});

describe('gen_ai.provider.name of openai-compatible deployments', () => {
  let server: OpenAIWireServer;
  beforeAll(async () => {
    server = await startOpenAIWireServer();
  });
  afterAll(() => server.close());

  /** The request span's provider name and the result's (or error's) provider, for a call that answers or fails. */
  async function providerOf(model: Record<string, unknown>, fail: boolean): Promise<{ span: unknown; reported: string | undefined }> {
    server.setScript(fail ? { error: { status: 400, message: 'bad' } } : {});
    exporter.reset();
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'openai-compatible', model: 'some-model', baseURL: server.baseURL, apiKey: 'k', ...model }] }, { env: {} });
    const stop = instrument(router);
    let reported: string | undefined;
    try {
      reported = (await router.generate('hello')).provider;
    } catch (e) {
      reported = (e as LLMError).provider;
    } finally {
      stop();
      await router.close();
    }
    return { span: only(await requestSpans()).attributes['gen_ai.provider.name'], reported };
  }

  it.each([
    ['groq', 'groq'],
    ['mistral', 'mistral_ai'],
    ['deepseek', 'deepseek'],
    ['azure-openai', 'azure.ai.openai'],
    ['openai', 'openai'],
    ['ollama', 'ollama'],
    ['vllm', 'vllm'],
  ])('preset %s: the result names the preset and the span says %s, for an answer and a failure alike', async (preset, expected) => {
    const options = preset === 'azure-openai' ? { options: { apiVersion: '2024-10-21' } } : {};
    for (const fail of [false, true]) {
      expect(await providerOf({ preset, ...options }, fail)).toEqual({ span: expected, reported: preset });
    }
  });

  it('a baseURL without preset is openai-compatible, traced as openai (an OpenAI API of an unknown provider)', async () => {
    for (const fail of [false, true]) expect(await providerOf({}, fail)).toEqual({ span: 'openai', reported: 'openai-compatible' });
  });
});
