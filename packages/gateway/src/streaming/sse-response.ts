import { LLMError, toLLMError, type FinishReason, type RouterResult, type StreamPart, type Usage } from '@llmrr/core';
import { toPublicError } from '../http/error-body.js';
import type { Reply } from '../http/reply.js';
import type { OpenedStream, RoutePart } from './open-stream.js';
import { ProducedText } from './produced-text.js';

type FinishPart = Extract<StreamPart, { type: 'finish' }>;

/** Turns router stream parts into the frames of one wire protocol (OpenAI chunks, Anthropic events). */
export interface StreamEncoder {
  start(route: RoutePart): string[];
  /** Content, metadata and usage parts (never `finish` or `error`). */
  part(part: StreamPart): string[];
  /** Final frames of a stream that ended well; `result` is the router's final result. */
  finish(part: FinishPart, result: RouterResult): string[];
  /** Final frames of a stream that broke after its first byte: an explicit error event. */
  error(error: LLMError, requestId: string): string[];
}

/** How a stream ended, for the ledger, budget and metrics (called before the final frames are sent). */
export type StreamOutcome =
  | { status: 'success'; result: RouterResult; firstPartMs: number }
  | {
      status: 'error' | 'aborted';
      error: LLMError;
      usage: Usage | undefined;
      finishReason?: FinishReason;
      firstPartMs: number;
      /** Text, reasoning and tool-call text passed to the encoder before the end (for a usage estimate). */
      outputText: string;
    };

export interface SseResponseOptions {
  requestId: string;
  headers: Record<string, string>;
  /** Aborted when the client goes away, so the upstream call stops. */
  abort: AbortController;
  /**
   * Awaited before the last frames go out. If it throws on success (the ledger could not be written),
   * the stream ends with the error event instead of the finish frames.
   */
  settle: (outcome: StreamOutcome) => Promise<void>;
}

/**
 * The HTTP reply of a stream: frames as they come (the frames of one part in one piece, so one write);
 * when the stream ends, the outcome is settled (ledger, budget, metrics) and only then are the final
 * frames (finish + usage, or the error event) sent. A stream that breaks after its first byte always
 * ends with the protocol's error event, never silently.
 */
export function sseReply(opened: OpenedStream, enc: StreamEncoder, options: SseResponseOptions): Reply {
  let settled = false;
  const settleOnce = async (outcome: StreamOutcome) => {
    if (settled) return;
    settled = true;
    await options.settle(outcome);
  };

  async function* frames(): AsyncGenerator<string, void> {
    let lastUsage: Usage | undefined;
    let finish: FinishPart | undefined;
    const produced = new ProducedText();
    const handle = (part: StreamPart): string => {
      produced.add(part);
      if (part.type === 'finish') {
        finish = part;
        lastUsage = part.usage;
        return '';
      }
      if (part.type === 'usage') lastUsage = part.usage;
      return join(enc.part(part));
    };
    try {
      let first = join(enc.start(opened.route));
      for (const part of opened.head) first += handle(part);
      yield first;
      for (;;) {
        const next = await opened.iterator.next();
        if (next.done) break;
        const part = next.value;
        if (part.type === 'route') continue;
        if (part.type === 'error') throw part.error;
        if (finish) continue;
        const text = handle(part);
        if (text !== '') yield text;
      }
      if (!finish) throw new LLMError({ code: 'stream_interrupted', message: 'The upstream stream ended without a finish event' });
      let result: RouterResult;
      try {
        result = await opened.stream.result;
      } catch (e) {
        throw toLLMError(e);
      }
      await settleOnce({ status: 'success', result, firstPartMs: opened.firstPartMs });
      yield join(enc.finish(finish, result));
    } catch (e) {
      const error = options.abort.signal.aborted ? toLLMError(options.abort.signal.reason ?? e) : toLLMError(e);
      const aborted = options.abort.signal.aborted || error.code === 'aborted';
      await settleOnce({
        status: aborted ? 'aborted' : 'error',
        error,
        usage: lastUsage,
        ...(finish ? { finishReason: finish.finishReason } : {}),
        firstPartMs: opened.firstPartMs,
        outputText: produced.text(),
      }).catch(() => {});
      if (!aborted) yield join(enc.error(toPublicError(error), options.requestId));
    } finally {
      if (!settled) {
        options.abort.abort();
        await settleOnce({
          status: 'aborted',
          error: toLLMError(Object.assign(new Error('The client closed the stream'), { name: 'AbortError' })),
          usage: lastUsage,
          firstPartMs: opened.firstPartMs,
          outputText: produced.text(),
        }).catch(() => {});
      }
      await opened.iterator.return?.().catch(() => {});
    }
  }

  const gen = frames();
  return {
    status: 200,
    headers: {
      ...options.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': options.requestId,
    },
    body: {
      frames: gen,
      async cancel() {
        options.abort.abort();
        await gen.return(undefined);
      },
    },
  };
}

function join(frames: string[]): string {
  return frames.length === 1 ? frames[0]! : frames.join('');
}
