import { LLMError } from '../errors/llm-error.js';
import { isContentPart, type GenerateRequest, type StreamPart } from '../spec/index.js';
import { SsePartStream } from '../util/sse-part-stream.js';
import type { RouterDeployment } from './deployment.js';
import type { AttemptScope } from './resilience/attempt-scope.js';
import type { AttemptDriver } from './resilience/run-attempts.js';

/** An engine stream read up to its first content part (or its finish, for an empty answer). */
export interface PrimedStream {
  iterator: AsyncIterator<StreamPart>;
  /** Parts read so far, the first content part (or finish) last. */
  buffered: StreamPart[];
  /** The engine already finished (an answer without content parts). */
  finished: boolean;
  /** When the first content part arrived (router clock). */
  firstContentAt: number;
  /**
   * The iterator ends by itself as soon as the attempt's signal aborts (an `SsePartStream`: the abort cancels
   * its body read and it hands out its abort part), so the router need not race each part against the abort.
   */
  endsOnAbort: boolean;
}

/** Ends an engine iterator without waiting or throwing (closes the upstream connection). */
export function closeQuietly(iterator: AsyncIterator<StreamPart> | undefined): void {
  if (!iterator?.return) return;
  try {
    const p = iterator.return();
    if (p && typeof p.then === 'function') p.then(undefined, () => {});
  } catch {
    // already closed
  }
}

/**
 * Runs a streaming attempt up to the first content part: failures before it (a thrown first
 * `next()`, an `error` part, an end without content) reject, so the router can still fall over;
 * after it the stream belongs to the consumer.
 */
export function streamDriver(request: GenerateRequest, headers: Record<string, string> | undefined, now: () => number): AttemptDriver<PrimedStream> {
  return {
    async run(d: RouterDeployment, scope: AttemptScope | undefined): Promise<PrimedStream> {
      const startedAt = now();
      let iterator: AsyncIterator<StreamPart> | undefined;
      try {
        const options = headers ? { signal: scope?.signal, headers } : { signal: scope?.signal };
        iterator = d.engine().stream(d.requestFor(request), options)[Symbol.asyncIterator]();
        const buffered: StreamPart[] = [];
        for (;;) {
          const r = scope ? await scope.race(iterator.next()) : await iterator.next();
          if (r.done) {
            throw new LLMError({
              code: 'stream_interrupted',
              message: `The stream from "${d.name}" ended before any content, finish or error`,
              deployment: d.name,
              provider: d.provider,
            });
          }
          const part = r.value;
          if (part.type === 'error') throw part.error;
          buffered.push(part);
          if (part.type === 'finish' || isContentPart(part)) {
            const at = now();
            scope?.firstToken();
            d.stats.firstToken(at - startedAt);
            return { iterator, buffered, finished: part.type === 'finish', firstContentAt: at, endsOnAbort: iterator instanceof SsePartStream };
          }
        }
      } catch (e) {
        closeQuietly(iterator);
        throw e;
      }
    },
    discard(value: PrimedStream): void {
      closeQuietly(value.iterator);
    },
  };
}
