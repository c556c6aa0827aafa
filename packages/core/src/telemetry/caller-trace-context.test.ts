/**
 * `callerTraceContext`: a call run in the trace context its caller sent (W3C `traceparent`) gets its request span as a
 * child of the caller's span, and takes nothing else from it (no `tracestate`, no baggage); a malformed `traceparent`
 * starts a new trace and is no error; without a propagator nothing is extracted. Background work (a prefetch started by
 * whichever live call left the router idle) is in no caller's trace. Real OTel API and SDK (InMemorySpanExporter), the
 * W3C propagators of `@opentelemetry/core`, an `AsyncLocalStorage` context manager (as the gateway server registers),
 * real LLMRouter.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as api from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AlwaysOnSampler, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import { PREFETCH_METADATA_KEY } from '../router/prefetch/router-prefetch.js';
import type { RouterEvents } from '../router/types.js';
import { SEMANTIC_EMBED_METADATA_KEY, SEMANTIC_GUARD_METADATA_KEY } from '../semantic-cache/semantic-cache-hook.js';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from '../router/llm-router.js';
import { withPrefetch } from '../router/prefetch/prefetching-router.js';
import type { CallOptions, ChatMessage, GenerateRequest, GenerateResult } from '../spec/index.js';
import { messageText } from '../spec/messages.js';
import { callerTraceContext, type OtelPropagationApi } from './caller-trace-context.js';
import { instrumentRouterWith } from './otel.js';

/** The context manager Node servers register (`@opentelemetry/context-async-hooks` does the same). */
class AsyncLocalStorageContextManager implements api.ContextManager {
  private readonly storage = new AsyncLocalStorage<api.Context>();
  active(): api.Context {
    return this.storage.getStore() ?? api.ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: api.Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(context, () => fn.apply(thisArg, args));
  }
  bind<T>(_context: api.Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('caller-trace-context.test');

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

/** Headers as a web `Headers` (what the gateway's header sources look like to the propagator). */
const headersOf = (h: Record<string, string>) => new Headers(h);

/** The API as `callerTraceContext` takes it, counting the propagator's extractions. */
function countingApi(): { otel: OtelPropagationApi; extractions: () => number } {
  let n = 0;
  const otel: OtelPropagationApi = {
    context: api.context,
    trace: api.trace,
    propagation: {
      fields: () => api.propagation.fields(),
      extract: (context, carrier, getter) => {
        n++;
        return api.propagation.extract(context as api.Context, carrier, getter);
      },
    },
  };
  return { otel, extractions: () => n };
}

function setup(t: api.Tracer = tracer) {
  const router = new LLMRouter(
    {
      models: [
        { name: 'a', engine: 'mock', priority: 1 },
        { name: 'b', engine: 'mock', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'both', weak: 'a', strong: 'b', verifier: 'judge', threshold: 0.5 }] },
    },
    { engines: { a: new MockEngine({ modelId: 'a-model' }), b: new MockEngine({ modelId: 'b-model' }) }, verifiers: { judge: () => 1 } },
  );
  instrumentRouterWith(api, router, { tracer: t });
  return router;
}

async function finished(): Promise<ReadableSpan[]> {
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

const Q1 = 'How do I reset my password?';
const FOLLOW = 'And how do I change the email address on my account?';
const SLOW = 'A slow question that takes a while';

/** The mock engine; while `holding`, calls asking SLOW wait until released. */
class HoldingEngine extends MockEngine {
  holding = false;
  readonly held: Array<() => void> = [];
  override async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    if (this.holding && messageText(request.messages.at(-1)!) === SLOW) await new Promise<void>((resolve) => this.held.push(resolve));
    return super.generate(request, options);
  }
}

/** An await on a timer first: the context must follow the call across turns, as through the gateway's admission. */
const later = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

describe('callerTraceContext', () => {
  beforeAll(() => {
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager());
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    api.context.disable();
    api.propagation.disable();
  });
  afterEach(() => exporter.reset());

  it("a request with a traceparent: the request span has the caller's trace id and its parent span id", async () => {
    const router = setup();
    const run = callerTraceContext(api);
    await run(headersOf({ traceparent: TRACEPARENT, tracestate: 'vendor=value' }), async () => {
      await later();
      return router.generate('hi', { model: 'a', requestId: 'tp-1' });
    });
    const span = (await finished()).find((s) => s.attributes['llmrr.request_id'] === 'tp-1')!;
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    // Parenting only: the caller's tracestate is not the operator's span's.
    expect(span.spanContext().traceState).toBeUndefined();
    expect(span.parentSpanContext?.traceState).toBeUndefined();
    // Nothing leaks out of the call: a call after it starts its own trace.
    await router.generate('hi', { model: 'a', requestId: 'tp-1b' });
    const after = (await finished()).find((s) => s.attributes['llmrr.request_id'] === 'tp-1b')!;
    expect(after.parentSpanContext).toBeUndefined();
    expect(after.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it("an unsampled traceparent (flags 00) parents the span all the same, and the caller's baggage is not taken", async () => {
    api.propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    try {
      // The sampler the gateway server configures: the caller's sampled flag decides nothing.
      const always = new AlwaysOnSampler();
      const sampling = new TracerProvider({ sampler: new ParentBasedSampler({ root: always, remoteParentSampled: always, remoteParentNotSampled: always }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
      const router = setup(sampling.getTracer('caller-trace-context.test'));
      const run = callerTraceContext(api);
      let baggage: api.Baggage | undefined;
      await run(headersOf({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-00`, baggage: 'tenant=someone-else' }), async () => {
        await later();
        baggage = api.propagation.getBaggage(api.context.active());
        return router.generate('hi', { model: 'a', requestId: 'tp-unsampled' });
      });
      expect(baggage).toBeUndefined();
      const span = (await finished()).find((s) => s.attributes['llmrr.request_id'] === 'tp-unsampled')!;
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    } finally {
      api.propagation.disable();
      api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it('a streamed cascade: the request span (and so its steps) joins the caller trace', async () => {
    const router = setup();
    const run = callerTraceContext(api);
    const stream = await run(headersOf({ traceparent: TRACEPARENT }), async () => {
      await later();
      return router.stream('hi', { model: 'both', requestId: 'tp-2' });
    });
    // Read outside the caller's context, as a response body is pulled by the HTTP server.
    for await (const part of stream) void part;
    const all = await finished();
    const cascade = all.find((s) => s.attributes['llmrr.request_id'] === 'tp-2')!;
    expect(cascade.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(all.every((s) => s.spanContext().traceId === TRACE_ID)).toBe(true);
    expect(all.filter((s) => s.parentSpanContext?.spanId === cascade.spanContext().spanId && s.kind === api.SpanKind.CLIENT)).toHaveLength(2);
  });

  it("a token count (countTokens: no model call) gets its own CLIENT span, a child of the caller's span", async () => {
    const router = setup();
    const run = callerTraceContext(api);
    const count = await run(headersOf({ traceparent: TRACEPARENT }), async () => {
      await later();
      return router.countTokens('hi', { model: 'a', requestId: 'tp-count', metadata: { tenant: 't1' } });
    });
    const span = only((await finished()).filter((s) => s.attributes['llmrr.request_id'] === 'tp-count'));
    expect([span.name, span.kind, span.spanContext().traceId, span.parentSpanContext?.spanId]).toEqual(['count_tokens a', api.SpanKind.CLIENT, TRACE_ID, PARENT_ID]);
    expect(span.attributes).toMatchObject({ 'gen_ai.operation.name': 'count_tokens', 'gen_ai.request.model': 'a', 'llmrr.token_count': count.tokens, 'llmrr.tenant': 't1' });
  });

  it.each([
    ['a malformed traceparent', 'not-a-trace-context'],
    ['a traceparent with an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['a traceparent of version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
  ])('%s: the call runs, in a new trace, and is no error', async (_name, traceparent) => {
    const router = setup();
    const run = callerTraceContext(api);
    const result = await run(headersOf({ traceparent }), () => router.generate('hi', { model: 'a', requestId: 'tp-3' }));
    expect(result.text).toContain('Mock answer');
    const span = only((await finished()).filter((s) => s.attributes['llmrr.request_id'] === 'tp-3'));
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span.status.code).toBe(api.SpanStatusCode.UNSET);
  });

  it('a request without trace headers: nothing is extracted, the call starts its own trace', async () => {
    const router = setup();
    const { otel, extractions } = countingApi();
    const run = callerTraceContext(otel);
    await run(headersOf({ 'content-type': 'application/json' }), () => router.generate('hi', { model: 'a', requestId: 'tp-4' }));
    expect(extractions()).toBe(0);
    const span = only((await finished()).filter((s) => s.attributes['llmrr.request_id'] === 'tp-4'));
    expect(span.parentSpanContext).toBeUndefined();
  });

  it('no propagator registered: a traceparent is not even read, the call runs as it is', async () => {
    api.propagation.disable();
    try {
      const router = setup();
      const { otel, extractions } = countingApi();
      const run = callerTraceContext(otel);
      let read = 0;
      const headers = { get: (name: string) => (read++, name === 'traceparent' ? TRACEPARENT : null) };
      await run(headers, () => router.generate('hi', { model: 'a', requestId: 'tp-5' }));
      expect(extractions()).toBe(0);
      expect(read).toBe(0);
      const span = only((await finished()).filter((s) => s.attributes['llmrr.request_id'] === 'tp-5'));
      expect(span.parentSpanContext).toBeUndefined();
    } finally {
      api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it("a prefetch (user A's, started when user C's call left the router idle) and the cache's embeddings are in no caller's trace", async () => {
    let t = 1_000_000;
    const chat = new HoldingEngine();
    const router = new LLMRouter(
      {
        models: [
          { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'] },
          { name: 'emb', engine: 'mock', capabilities: ['embeddings'], enabled: true },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { exact: { enabled: true, ttlMs: 3_600_000 }, semantic: { enabled: true, embedder: 'emb', threshold: 0.95, guardAbove: 0.95 }, predictive: { enabled: true } },
      },
      { engines: { chat, emb: new MockEngine({ modelId: 'mock-embed' }) }, now: () => t, unknownTenant: 'shared' },
    );
    const p = withPrefetch(router, { now: () => t });
    const prefetch = p.prefetch!;
    instrumentRouterWith(api, router, { tracer, captureContent: true });
    const run = callerTraceContext(api);
    const TRACE_A = 'a'.repeat(32);
    const TRACE_C = 'c'.repeat(32);
    const ask = (user: string, question: string, history: ChatMessage[] = []) => {
      t += 5_000;
      return p.generate({ messages: [{ role: 'system', content: `Support session ${user}` }, ...history, { role: 'user', content: question }], user });
    };
    try {
      // Two users ask Q1 then FOLLOW: the prediction Q1 -> FOLLOW is learned (outside any caller trace).
      for (const u of ['u1', 'u2']) {
        const a = await ask(u, Q1);
        await ask(u, FOLLOW, [
          { role: 'user', content: Q1 },
          { role: 'assistant', content: a.text },
        ]);
        await prefetch.settled();
      }
      exporter.reset();
      chat.holding = true;
      // User C's live call, in C's trace, is in flight (held): the router is busy, prefetches wait.
      const c = run(headersOf({ traceparent: `00-${TRACE_C}-${'3'.repeat(16)}-01` }), () => ask('userC', SLOW));
      await vi.waitFor(() => expect(chat.held).toHaveLength(1), { timeout: 10_000 });
      // User A's Q1, in A's trace: A's prefetch of FOLLOW is queued (live traffic in flight).
      const queued = prefetch.stats().queued;
      await run(headersOf({ traceparent: `00-${TRACE_A}-${'1'.repeat(16)}-01` }), () => ask('userA', Q1));
      await vi.waitFor(() => expect(prefetch.stats().queued).toBe(queued + 1), { timeout: 10_000 });
      expect(prefetch.stats().started).toBe(0);
      // C's call ends (its request:end leaves the router idle, in C's context): A's prefetch starts.
      chat.holding = false;
      chat.held.shift()!();
      await c;
      await vi.waitFor(() => expect(prefetch.stats().started).toBe(1), { timeout: 10_000 });
      await prefetch.settled();
      const spans = await finished();
      const requestSpans = spans.filter((s) => s.kind === api.SpanKind.CLIENT);
      const isPrefetch = (s: ReadableSpan) => String(s.attributes['llmrr.request_id']).startsWith('prefetch_');
      const live = requestSpans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat' && !isPrefetch(s));
      expect(live.map((s) => s.spanContext().traceId).sort()).toEqual([TRACE_A, TRACE_C]);
      const prefetched = only(requestSpans.filter((s) => isPrefetch(s) && s.attributes['gen_ai.operation.name'] === 'chat'));
      expect(String(prefetched.attributes['gen_ai.input.messages'])).toContain(FOLLOW);
      // A root span of its own trace: in neither user's.
      expect(prefetched.parentSpanContext).toBeUndefined();
      expect([TRACE_A, TRACE_C]).not.toContain(prefetched.spanContext().traceId);
      // The semantic cache's embeddings (one batch may serve several callers) are roots too.
      const embeddings = requestSpans.filter((s) => s.attributes['gen_ai.operation.name'] === 'embeddings');
      expect(embeddings.length).toBeGreaterThan(0);
      for (const e of embeddings) expect(e.parentSpanContext).toBeUndefined();
      // Each caller's trace holds its own call (and its attempts) only.
      for (const [trace, user] of [
        [TRACE_A, 'userA'],
        [TRACE_C, 'userC'],
      ] as const) {
        const own = live.find((s) => s.spanContext().traceId === trace)!;
        expect(String(own.attributes['gen_ai.input.messages'])).toContain(`Support session ${user}`);
        for (const s of spans.filter((x) => x.spanContext().traceId === trace && x !== own)) expect(s.parentSpanContext?.spanId).toBe(own.spanContext().spanId);
      }
    } finally {
      chat.holding = false;
      for (const r of chat.held.splice(0)) r();
      await p.close();
      await router.close();
    }
  }, 30_000);

  it("in a caller's context: a prefetch and a cache embedding start root spans, a guard call goes under the call it serves", async () => {
    const source = new TypedEmitter<RouterEvents>();
    instrumentRouterWith(api, source, { tracer });
    const start = (requestId: string, metadata: Record<string, unknown>, kind: 'generate' | 'embed' = 'generate') => source.emit('request:start', { requestId, stream: false, kind, metadata });
    const fail = (requestId: string) => source.emit('request:end', { requestId, stream: false, kind: 'generate', metadata: {}, error: new LLMError({ code: 'aborted', message: 'x' }) });
    // All of it runs in user C's context (a prefetch is started from C's request:end, a batch from C's lookup).
    await callerTraceContext(api)(headersOf({ traceparent: TRACEPARENT }), async () => {
      await later();
      start('live', { tenant: 'c' });
      start('prefetch_1', { [PREFETCH_METADATA_KEY]: true, tenant: 'a' });
      start('guard-of-prefetch', { [SEMANTIC_GUARD_METADATA_KEY]: 'prefetch_1', tenant: 'a' });
      start('guard-of-live', { [SEMANTIC_GUARD_METADATA_KEY]: 'live', tenant: 'c' });
      start('prefetch-embed', { [PREFETCH_METADATA_KEY]: true }, 'embed');
      start('cache-embed', { [SEMANTIC_EMBED_METADATA_KEY]: true }, 'embed');
    });
    for (const id of ['live', 'prefetch_1', 'guard-of-prefetch', 'guard-of-live', 'prefetch-embed', 'cache-embed']) fail(id);
    const spans = await finished();
    const span = (id: string) => only(spans.filter((s) => s.attributes['llmrr.request_id'] === id));
    expect(span('live').parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span('guard-of-live').parentSpanContext?.spanId).toBe(PARENT_ID);
    for (const id of ['prefetch_1', 'prefetch-embed', 'cache-embed']) {
      expect(span(id).parentSpanContext, id).toBeUndefined();
      expect(span(id).spanContext().traceId, id).not.toBe(TRACE_ID);
    }
    expect(span('guard-of-prefetch').parentSpanContext?.spanId).toBe(span('prefetch_1').spanContext().spanId);
    expect(span('guard-of-prefetch').spanContext().traceId).toBe(span('prefetch_1').spanContext().traceId);
  });

  it('rejects what is not the API, naming the argument', () => {
    expect(() => callerTraceContext({} as OtelPropagationApi)).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'api' }));
  });
});

function only<T>(list: T[]): T {
  expect(list).toHaveLength(1);
  return list[0]!;
}
