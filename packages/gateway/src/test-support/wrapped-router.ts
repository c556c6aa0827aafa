import type { GenerateOptions, GenerateRequest, LLMRouter, RouterStream } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/** A wrapped router: its streams forward the router's parts (a logging or metering wrapper), without `cancel`. */
export function wrapRouter(inner: LLMRouter): GatewayRouter {
  return {
    generate: (r, o) => inner.generate(r, o),
    route: (r, o) => inner.route(r, o),
    models: (t) => inner.models(t),
    stream(request: GenerateRequest, options?: GenerateOptions): RouterStream {
      const s = inner.stream(request, options);
      return { requestId: s.requestId, result: s.result, [Symbol.asyncIterator]: () => s[Symbol.asyncIterator]() };
    },
  };
}
