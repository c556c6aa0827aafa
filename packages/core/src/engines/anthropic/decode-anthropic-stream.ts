import type { StreamPart } from '../../spec/stream-parts.js';
import { decodeSseMessages, type SseMessage } from '../../util/decode-sse-messages.js';
import { AnthropicStreamDecoder, type AnthropicStreamContext } from './anthropic-stream-decoder.js';

export type { AnthropicStreamContext } from './anthropic-stream-decoder.js';
export type { SseMessage } from '../../util/decode-sse-messages.js';

/**
 * `AnthropicStreamDecoder` over an async iterable of server-sent events (eventsource-parser messages, or anything
 * with `data`), for callers that already have the events. The engine itself streams through `SsePartStream`,
 * without a generator. Ends with exactly one `finish` or `error` part; a source that throws ends with the decoder's
 * `interrupted` part (`aborted`/`timeout` when `ctx.signal` fired), one that ends early with `stream_interrupted`.
 */
export function decodeAnthropicStream(events: AsyncIterable<SseMessage>, ctx: AnthropicStreamContext): AsyncGenerator<StreamPart> {
  return decodeSseMessages(new AnthropicStreamDecoder(ctx), events);
}
