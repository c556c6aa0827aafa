/**
 * `callerTraceContext`: a call run in the trace context its caller sent (W3C `traceparent`, `tracestate`) gets its
 * request span as a child of the caller's span; a malformed `traceparent` starts a new trace and is no error; without a
 * propagator nothing is extracted. Real OTel API and SDK (InMemorySpanExporter), the W3C propagator of
 * `@opentelemetry/core`, an `AsyncLocalStorage` context manager (as the gateway server registers), real LLMRouter.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import * as api from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
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

function setup() {
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
  instrumentRouterWith(api, router, { tracer });
  return router;
}

async function finished(): Promise<ReadableSpan[]> {
  await provider.forceFlush();
  return exporter.getFinishedSpans();
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
    expect(span.spanContext().traceState?.get('vendor')).toBe('value');
    // Nothing leaks out of the call: a call after it starts its own trace.
    await router.generate('hi', { model: 'a', requestId: 'tp-1b' });
    const after = (await finished()).find((s) => s.attributes['llmrr.request_id'] === 'tp-1b')!;
    expect(after.parentSpanContext).toBeUndefined();
    expect(after.spanContext().traceId).not.toBe(TRACE_ID);
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

  it('rejects what is not the API, naming the argument', () => {
    expect(() => callerTraceContext({} as OtelPropagationApi)).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'api' }));
  });
});

function only<T>(list: T[]): T {
  expect(list).toHaveLength(1);
  return list[0]!;
}
