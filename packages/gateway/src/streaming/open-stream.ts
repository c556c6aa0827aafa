import { LLMError, isContentPart, toLLMError, type CallWarning, type RouterStream, type RouterStreamPart, type StreamPart } from '@llmrr/core';

export type RoutePart = Extract<RouterStreamPart, { type: 'route' }>;

/** A router stream whose first answer part has arrived: from here on, the HTTP response is a 200 stream. */
export interface OpenedStream {
  route: RoutePart;
  /** Parts received while opening (metadata, warnings, the first content part, or an early finish). */
  head: StreamPart[];
  /** The warnings of the head's `warnings` part (engines send at most one; several are joined in order), when there are some: shown in the headers. */
  warnings?: CallWarning[];
  iterator: AsyncIterator<RouterStreamPart>;
  stream: RouterStream;
  /** ms from the call to the first content part (or finish), measured by the gateway. */
  firstPartMs: number;
}

/**
 * Pulls a router stream up to its first content part (or finish). A failure before that point
 * (the router found no deployment that would answer) is thrown as an LLMError, so the client gets a
 * proper HTTP error status instead of a 200 stream that fails at once.
 */
export async function openStream(stream: RouterStream, startedAt: number, now: () => number): Promise<OpenedStream> {
  // The result promise rejects when the stream fails; we read failures from the parts.
  stream.result.catch(() => {});
  const iterator = stream[Symbol.asyncIterator]();
  const head: StreamPart[] = [];
  let route: RoutePart | undefined;
  let warnings: CallWarning[] | undefined;
  /** `warnings` is our own copy (several warnings parts came), not the first part's list. */
  let joined = false;
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const part = next.value;
      if (part.type === 'route') {
        route = part;
        continue;
      }
      if (part.type === 'error') throw part.error;
      if (part.type === 'warnings' && Array.isArray(part.warnings) && part.warnings.length > 0) {
        // The first part's list as it is; a copy once a second one comes, then added to in place (not copied per part).
        if (warnings === undefined) warnings = part.warnings;
        else {
          if (!joined) {
            warnings = warnings.slice();
            joined = true;
          }
          for (const w of part.warnings) warnings.push(w);
        }
      }
      head.push(part);
      if (isContentPart(part) || part.type === 'finish') break;
    }
  } catch (e) {
    await iterator.return?.().catch(() => {});
    throw toLLMError(e);
  }
  if (!route) {
    await iterator.return?.().catch(() => {});
    throw new LLMError({ code: 'invalid_response', message: 'The router stream ended without naming a deployment' });
  }
  const opened: OpenedStream = { route, head, iterator, stream, firstPartMs: now() - startedAt };
  if (warnings) opened.warnings = warnings;
  return opened;
}
