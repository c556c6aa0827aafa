import { LLMError } from '../errors/llm-error.js';

/** The headers of an incoming request, as far as trace context is read from them (a web `Headers` fits). */
export interface TraceHeaders {
  get(name: string): string | null;
}

/** A span context, as far as `callerTraceContext` takes one from its caller. */
export interface CallerSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

/** The parts of `@opentelemetry/api` that `callerTraceContext` uses (pass the module itself). */
export interface OtelPropagationApi {
  readonly context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  readonly propagation: {
    fields(): string[];
    extract(context: unknown, carrier: TraceHeaders, getter: { keys(carrier: TraceHeaders): string[]; get(carrier: TraceHeaders, key: string): string | undefined }): unknown;
  };
  readonly trace: {
    getSpanContext(context: unknown): CallerSpanContext | undefined;
    setSpanContext(context: unknown, spanContext: CallerSpanContext & { isRemote: boolean }): unknown;
  };
}

/**
 * Runs `call` in the trace context its caller sent (`traceparent`, `tracestate`), so that the spans it starts (the
 * router's, through `instrumentRouter`) join the caller's trace as children of the caller's span.
 */
export type CallerTraceContext = <T>(headers: TraceHeaders, call: () => T) => T;

const getter = {
  keys: (): string[] => [],
  get: (carrier: TraceHeaders, key: string): string | undefined => carrier.get(key) ?? undefined,
};

/**
 * A `CallerTraceContext` over OpenTelemetry's global propagator and context manager (register the W3C
 * `W3CTraceContextPropagator` and a context manager that follows async calls, such as `AsyncLocalStorage`'s).
 * The caller's context is used for parenting only: of what the propagator extracted, only the parent span (trace id,
 * span id, sampled flag) is kept, on the active context; its `tracestate`, baggage and anything else a propagator
 * puts in a context are dropped, so none of it reaches the spans' context or their export. The sampled flag stays the
 * caller's: a sampler that reads it (OpenTelemetry's default `ParentBasedSampler`) lets a caller that sends
 * `-00` switch the tracing of its calls off; use `ParentBasedSampler` with `remoteParentNotSampled: AlwaysOnSampler`
 * (as the gateway server does) to trace them whatever they say. A malformed `traceparent` is ignored by the
 * propagator (the call starts a new trace). A request that carries none of the propagator's fields, or a process
 * with no propagator registered (its `fields()` are none), runs `call` as it is: no extraction, no context switch.
 */
export function callerTraceContext(api: OtelPropagationApi): CallerTraceContext {
  if (typeof api?.propagation?.extract !== 'function' || typeof api.context?.with !== 'function' || typeof api.trace?.setSpanContext !== 'function') {
    throw new LLMError({ code: 'invalid_request', message: 'callerTraceContext needs the @opentelemetry/api module (context, propagation, trace)', param: 'api' });
  }
  const { context, propagation, trace } = api;
  return <T>(headers: TraceHeaders, call: () => T): T => {
    const fields = propagation.fields();
    let carried = false;
    for (let i = 0; i < fields.length && !carried; i++) carried = headers.get(fields[i]!) !== null;
    if (!carried) return call();
    const active = context.active();
    const extracted = propagation.extract(active, headers, getter);
    if (extracted === active) return call();
    // The parent span only (no tracestate, no baggage): parenting is all the caller's context is used for.
    const parent = trace.getSpanContext(extracted);
    if (!parent || parent === trace.getSpanContext(active)) return call();
    return context.with(trace.setSpanContext(active, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.traceFlags, isRemote: true }), call);
  };
}
