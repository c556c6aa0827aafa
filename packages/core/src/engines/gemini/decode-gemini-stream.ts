import type { StreamPart } from '../../spec/stream-parts.js';
import { decodeSseMessages, type SseMessage } from '../../util/decode-sse-messages.js';
import { GeminiStreamDecoder, type GeminiStreamContext } from './gemini-stream-decoder.js';

export type { GeminiStreamContext } from './gemini-stream-decoder.js';

/** One server-sent event (what `sseEvents` yields). */
export type GeminiSseMessage = SseMessage;

/**
 * `GeminiStreamDecoder` over an async iterable of server-sent events (eventsource-parser messages, or anything
 * with `data`), for callers that already have the events. The engine itself streams through `SsePartStream`,
 * without a generator. Ends with exactly one `finish` (the source ended, or failed, after a `finishReason`) or one
 * `error` part (`aborted`/`timeout` when `ctx.signal` fired, `stream_interrupted` without a `finishReason`).
 */
export function decodeGeminiStream(events: AsyncIterable<GeminiSseMessage>, ctx: GeminiStreamContext): AsyncGenerator<StreamPart> {
  return decodeSseMessages(new GeminiStreamDecoder(ctx), events);
}
