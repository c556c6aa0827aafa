import { LLMError, isContentPart, toLLMError, type CallWarning, type RouterStream, type RouterStreamPart, type StreamPart } from '@llmrr/core';
import { WARNINGS_LOOKED_AT_MAX } from '../calls/call-warnings.js';

function noop(): void {}

export type RoutePart = Extract<RouterStreamPart, { type: 'route' }>;

/** A router stream whose first answer part has arrived: from here on, the HTTP response is a 200 stream. */
export interface OpenedStream {
  route: RoutePart;
  /** Parts received while opening (metadata, warnings, the first content part, or an early finish). */
  head: StreamPart[];
  /**
   * The warnings of the head's `warnings` part (engines send at most one; several are joined in order, at most
   * `WARNINGS_LOOKED_AT_MAX - 1` entries then one `warnings_omitted`), when there are some: shown in the headers.
   */
  warnings?: CallWarning[];
  iterator: AsyncIterator<RouterStreamPart>;
  stream: RouterStream;
  /** ms from the call to the first content part (or finish), measured by the gateway. */
  firstPartMs: number;
  /** When the call started, on `now`'s clock: the time to first token of a wire that leaves the head's content part out is taken later. */
  startedAt: number;
  now: () => number;
}

/**
 * Pulls a router stream up to its first content part (or finish). A failure before that point
 * (the router found no deployment that would answer) is thrown as an LLMError, so the client gets a
 * proper HTTP error status instead of a 200 stream that fails at once.
 */
export async function openStream(stream: RouterStream, startedAt: number, now: () => number): Promise<OpenedStream> {
  // The result promise rejects when the stream fails; we read failures from the parts.
  stream.result.catch(noop);
  const iterator = stream[Symbol.asyncIterator]();
  const head: StreamPart[] = [];
  let route: RoutePart | undefined;
  let warnings: CallWarning[] | undefined;
  /** Several warnings parts came: their lists joined (bounded), `warnings` then our own copy, not the first part's list. */
  let joined: JoinedWarnings | undefined;
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
        // The first part's list as it is; a bounded copy once a second one comes, then added to in place (not copied per part).
        if (warnings === undefined) warnings = part.warnings;
        else {
          if (joined === undefined) {
            joined = { list: [], total: 0 };
            addWarnings(joined, warnings);
          }
          addWarnings(joined, part.warnings);
          warnings = joined.list;
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
  const opened: OpenedStream = { route, head, iterator, stream, firstPartMs: now() - startedAt, startedAt, now };
  if (joined !== undefined && joined.total > joined.list.length) {
    const omitted = joined.total - joined.list.length;
    joined.list.push({ code: 'warnings_omitted', message: `The engine sent ${joined.total} warnings; the first ${joined.list.length} were looked at and the other ${omitted} left out.` });
  }
  if (warnings) opened.warnings = warnings;
  return opened;
}

/** Several warnings parts' lists joined: `list` the first entries, `total` how many entries (and holes) all had. */
interface JoinedWarnings {
  list: CallWarning[];
  total: number;
}

/**
 * The most entries of several warnings parts kept, so that with the `warnings_omitted` one the joined list is one
 * `wellFormedWarnings` looks at whole: a plain-JS engine may send a sparse list of 2**32 - 1 indexes.
 */
const JOINED_WARNINGS_MAX = WARNINGS_LOOKED_AT_MAX - 1;

/**
 * Adds `list`'s entries to `joined` while it holds fewer than `JOINED_WARNINGS_MAX` (an index loop, holes kept as
 * entries that are not warnings, as `wellFormedWarnings` counts them); counts all of them.
 */
function addWarnings(joined: JoinedWarnings, list: readonly CallWarning[]): void {
  const take = Math.min(list.length, JOINED_WARNINGS_MAX - joined.list.length);
  for (let i = 0; i < take; i++) joined.list.push(list[i]!);
  joined.total += list.length;
}
