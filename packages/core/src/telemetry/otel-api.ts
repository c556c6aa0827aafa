/**
 * The parts of `@opentelemetry/api` (an optional peer) the instrumentation uses, typed here rather than imported: the
 * published declarations reach them (`instrumentRouter`'s parameters), and a consumer without the peer must not get
 * TS2307 from them. The real module, its `Tracer` and its spans fit these types (`otel.test.ts` passes them as they are).
 * Methods, not function-typed properties: the real API's own signatures (enums, `Context`, `TimeInput`) are checked
 * against them loosely, as a method's are.
 */

/** An attribute value as OpenTelemetry takes it. */
export type OtelAttributeValue = string | number | boolean | Array<null | undefined | string> | Array<null | undefined | number> | Array<null | undefined | boolean>;

/** Span attributes. */
export type OtelAttributes = Record<string, OtelAttributeValue | undefined>;

/** A span, as far as the instrumentation writes to it. */
export interface OtelSpan {
  setAttribute(key: string, value: OtelAttributeValue): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  updateName(name: string): unknown;
  addEvent(name: string, attributes?: OtelAttributes, time?: number): unknown;
  end(endTime?: number): void;
}

/** A tracer: what `startSpan` is called with. The context is OpenTelemetry's `Context`, passed through as it is. */
export interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: OtelAttributes; startTime?: number }, context?: unknown): OtelSpan;
}

/** The parts of `@opentelemetry/api` the instrumentation uses (pass the module itself). */
export interface OtelApi {
  readonly context: { active(): unknown };
  /** The empty context: the parent of the spans of calls no caller waits for (prefetches, shared cache embeddings). */
  readonly ROOT_CONTEXT: unknown;
  readonly trace: { getTracer(name: string, version?: string): OtelTracer; setSpan(context: unknown, span: OtelSpan): unknown };
  readonly SpanKind: { readonly CLIENT: number; readonly INTERNAL: number };
  readonly SpanStatusCode: { readonly ERROR: number };
}
