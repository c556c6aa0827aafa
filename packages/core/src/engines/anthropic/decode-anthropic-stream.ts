import type { StreamPart } from '../../spec/stream-parts.js';
import { AnthropicStreamDecoder, type AnthropicStreamContext } from './anthropic-stream-decoder.js';

export type { AnthropicStreamContext } from './anthropic-stream-decoder.js';

/** One server-sent event (what `sseEvents` yields). */
export interface SseMessage {
  event?: string;
  data: string;
}

/**
 * `AnthropicStreamDecoder` over an async iterable of server-sent events (eventsource-parser messages, or anything
 * with `data`), for callers that already have the events. The engine itself streams through `SsePartStream`,
 * without a generator. Ends with exactly one `finish` or `error` part; a source that throws ends with the decoder's
 * `interrupted` part (`aborted`/`timeout` when `ctx.signal` fired), one that ends early with `stream_interrupted`.
 */
export async function* decodeAnthropicStream(events: AsyncIterable<SseMessage>, ctx: AnthropicStreamContext): AsyncGenerator<StreamPart> {
  const decoder = new AnthropicStreamDecoder(ctx);
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
