import { LLMError } from '../errors/llm-error.js';

/** The headers of an incoming request, as far as trace context is read from them (a web `Headers` fits). */
export interface TraceHeaders {
  get(name: string): string | null;
}

/** The parts of `@opentelemetry/api` that `callerTraceContext` uses (pass the module itself). */
export interface OtelPropagationApi {
  readonly context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  readonly propagation: {
    fields(): string[];
    extract(context: unknown, carrier: TraceHeaders, getter: { keys(carrier: TraceHeaders): string[]; get(carrier: TraceHeaders, key: string): string | undefined }): unknown;
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
 * The caller's context is used for parenting only: a malformed `traceparent` is ignored by the propagator (the call
 * starts a new trace), and nothing else reads it. A request that carries none of the propagator's fields, or a process
 * with no propagator registered (its `fields()` are none), runs `call` as it is: no extraction, no context switch.
 */
export function callerTraceContext(api: OtelPropagationApi): CallerTraceContext {
  if (typeof api?.propagation?.extract !== 'function' || typeof api.context?.with !== 'function') {
    throw new LLMError({ code: 'invalid_request', message: 'callerTraceContext needs the @opentelemetry/api module (context, propagation)', param: 'api' });
  }
  const { context, propagation } = api;
  return <T>(headers: TraceHeaders, call: () => T): T => {
    const fields = propagation.fields();
    let carried = false;
    for (let i = 0; i < fields.length && !carried; i++) carried = headers.get(fields[i]!) !== null;
    if (!carried) return call();
    const active = context.active();
    const extracted = propagation.extract(active, headers, getter);
    return extracted === active ? call() : context.with(extracted, call);
  };
}
