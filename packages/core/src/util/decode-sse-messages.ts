import type { StreamPart } from '../spec/stream-parts.js';
import type { SsePartDecoder } from './sse-part-stream.js';

/** One server-sent event (what `sseEvents` yields). */
export interface SseMessage {
  event?: string;
  data: string;
}

/**
 * A `SsePartDecoder` over an async iterable of server-sent events (eventsource-parser messages, or anything with
 * `data`), for callers that already have the events; the engines themselves stream through `SsePartStream`, without a
 * generator. Stops at the decoder's terminal part; a source that throws ends with the decoder's `interrupted` parts,
 * one that ends with its `end` parts.
 */
export async function* decodeSseMessages(decoder: SsePartDecoder, events: AsyncIterable<SseMessage>): AsyncGenerator<StreamPart> {
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
