import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { SsePartDecoder } from '../../util/sse-part-stream.js';
import type { HttpCallContext } from './http-engine-call.js';

export interface ProviderStreamContext {
  provider: string;
  deployment?: string;
  /** The call's signal: when the source fails after it aborted, the error is `aborted`/`timeout`. */
  signal?: AbortSignal;
}

/**
 * The terminal-state rules an `SsePartDecoder` of a provider's event stream shares (Anthropic, Gemini):
 * exactly one terminal part (`finish` or `error`), after which `done` is true and all input is ignored; a
 * payload whose decoding throws keeps the parts before it and ends with `interrupted()`'s part; a source
 * failure is `aborted`/`timeout` once the signal fired, else the provider's finished answer (`completed()`),
 * else the LLMError it already is, else `stream_interrupted`. Subclasses read the payloads (`read`) and say
 * how a body that ended without a terminal event ends (`ended`).
 */
export abstract class ProviderStreamDecoder implements SsePartDecoder {
  private terminated = false;
  /** Provider and deployment, put on every error. */
  protected readonly context: HttpCallContext;

  constructor(private readonly base: ProviderStreamContext) {
    this.context = { provider: base.provider, deployment: base.deployment };
  }

  get done(): boolean {
    return this.terminated;
  }

  decode(data: string): StreamPart[] {
    if (this.terminated) return [];
    const parts: StreamPart[] = [];
    try {
      this.read(data, parts);
    } catch (e) {
      // A payload of an unexpected shape (a field missing, a list that is not one): the parts so far, then the failure.
      for (const part of this.interrupted(e)) parts.push(part);
    }
    return parts;
  }

  end(): StreamPart[] {
    if (this.terminated) return [];
    return [this.ended()];
  }

  interrupted(cause: unknown): StreamPart[] {
    if (this.terminated) return [];
    const signal = this.base.signal;
    if (signal?.aborted) return [this.terminal({ type: 'error', error: abortError(signal, this.context) })];
    const completed = this.completed();
    if (completed) return [completed];
    if (LLMError.isInstance(cause)) return [this.terminal({ type: 'error', error: toLLMError(cause, this.context) })];
    return [this.fail(`stream interrupted: ${cause instanceof Error ? cause.message : String(cause)}`, 'stream_interrupted', cause)];
  }

  /** Pushes the parts of one `data:` payload (a terminal one through `terminal`/`fail`). */
  protected abstract read(data: string, parts: StreamPart[]): void;

  /** The terminal part of a body that ended before a terminal event. */
  protected abstract ended(): StreamPart;

  /** The terminal part when the answer is already complete though the source failed (e.g. cut after the last chunk). */
  protected completed(): StreamPart | undefined {
    return undefined;
  }

  /** Marks `part` as the terminal part. */
  protected terminal(part: StreamPart): StreamPart {
    this.terminated = true;
    return part;
  }

  /** A terminal error part with the provider's name before `message`. */
  protected fail(message: string, code: 'invalid_response' | 'stream_interrupted', cause?: unknown): StreamPart {
    return this.terminal({ type: 'error', error: new LLMError({ code, message: `${this.base.provider}: ${message}`, cause, ...this.context }) });
  }
}
