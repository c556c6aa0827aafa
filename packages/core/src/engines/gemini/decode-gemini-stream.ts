import type { StreamPart } from '../../spec/stream-parts.js';
import { GeminiStreamDecoder, type GeminiStreamContext } from './gemini-stream-decoder.js';

export type { GeminiStreamContext } from './gemini-stream-decoder.js';

/** One server-sent event (what `sseEvents` yields). */
export interface GeminiSseMessage {
  event?: string;
  data: string;
}

/**
 * `GeminiStreamDecoder` over an async iterable of server-sent events (eventsource-parser messages, or anything
 * with `data`), for callers that already have the events. The engine itself streams through `SsePartStream`,
 * without a generator. Ends with exactly one `finish` (the source ended, or failed, after a `finishReason`) or one
 * `error` part (`aborted`/`timeout` when `ctx.signal` fired, `stream_interrupted` without a `finishReason`).
 */
export async function* decodeGeminiStream(events: AsyncIterable<GeminiSseMessage>, ctx: GeminiStreamContext): AsyncGenerator<StreamPart> {
  const decoder = new GeminiStreamDecoder(ctx);
  try {
    for await (const message of events) {
      // A loop, not `yield*`: delegating to an array's iterator costs an extra await per part.
      for (const part of decoder.decode(message.data)) yield part;
      if (decoder.done) return;
    }
  } catch (e) {
    for (const part of decoder.interrupted(e)) yield part;
    return;
  }
  for (const part of decoder.end()) yield part;
}
