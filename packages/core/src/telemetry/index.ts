export { COUNT_TOKENS_OPERATION, instrumentRouter, instrumentRouterWith, TRACER_NAME } from './otel.js';
export type { InstrumentRouterOptions, LoadInstrumentRouterOptions, OtelApi, RequestStartDetails, RouterEventSource } from './otel.js';
// Every GenAI semantic-convention constant and helper (attribute names, provider and finish-reason mapping).
export * from './gen-ai-semconv.js';
export { toGenAiInputMessages, toGenAiOutputMessages } from './gen-ai-content.js';
export type { GenAiInputMessage, GenAiMessagePart, GenAiOutputMessage } from './gen-ai-content.js';
export { callerTraceContext } from './caller-trace-context.js';
export type { CallerSpanContext, CallerTraceContext, OtelPropagationApi, TraceHeaders } from './caller-trace-context.js';
