import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import { SsePartStream, type SseOpening } from '../../util/sse-part-stream.js';
import type { HttpCallContext } from './http-engine-call.js';

/**
 * The `SsePartStream` of an HTTP engine's streamed answer: `open` sends the request (on the first `next()`)
 * and gives the 2xx response with its decoder; whatever it throws (a bad request, an HTTP status, a refused
 * connection) is the one `error` part, and an abort ends the stream with `aborted`/`timeout`, both with the
 * call's provider and deployment.
 */
export function httpSseStream(
  context: HttpCallContext,
  signal: AbortSignal | undefined,
  open: () => Promise<SseOpening>,
): SsePartStream {
  return new SsePartStream({
    signal,
    open: async () => {
      try {
        return await open();
      } catch (e) {
        return { part: { type: 'error', error: toLLMError(e, context) } };
      }
    },
    abortPart: (s) => ({ type: 'error', error: abortError(s, context) }),
  });
}
