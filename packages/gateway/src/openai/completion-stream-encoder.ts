import type { LLMError, RouterResult, StreamPart, TokenLogprob } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { OpenAICompletionResponse } from '../schemas/openai-completions.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { StreamEncoder } from '../streaming/sse-response.js';
import { DONE_FRAME, dataFrame } from './chat-stream-encoder.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toCompletionLogprobs } from './openai-logprobs.js';
import { toOpenAIUsage } from './usage.js';

export function completionId(requestId: string): string {
  return `cmpl-${requestId}`;
}

type CompletionFinish = OpenAICompletionResponse['choices'][number]['finish_reason'];

function completionFinishReason(result: RouterResult['finishReason']): CompletionFinish {
  const r = toOpenAIFinishReason(result);
  return r === 'tool_calls' || r === 'function_call' ? 'stop' : r;
}

/** Options of a legacy completion answer's log probabilities. */
export interface CompletionLogprobsOptions {
  /** The request asked for log probabilities: only then are the answer's rendered. */
  logprobs?: boolean;
  /**
   * Where the completion starts in `text_offset` terms: the prompt's length in characters (code points), as
   * OpenAI counts offsets from the start of the prompt even when it is not echoed. Default 0.
   */
  promptChars?: number;
}

/**
 * A router result as a legacy `text_completion` object; `logprobs` holds the answer's token log probabilities
 * (`toCompletionLogprobs`, offsets from the prompt's start) when the request asked for them and the answer has
 * them, else null.
 */
export function toTextCompletion(result: RouterResult, options: { created: number; explain: boolean } & CompletionLogprobsOptions): OpenAICompletionResponse {
  const logprobs = options.logprobs === true && result.logprobs ? toCompletionLogprobs(result.logprobs, options.promptChars ?? 0).logprobs : null;
  return {
    id: completionId(result.requestId),
    object: 'text_completion',
    created: options.created,
    model: result.deployment,
    system_fingerprint: null,
    // A refusal (no field for it on this wire) as text after the answer's, as the streamed answer sends it.
    choices: [{ text: result.text + (result.refusal ?? ''), index: 0, logprobs, finish_reason: completionFinishReason(result.finishReason) }],
    usage: toOpenAIUsage(answerUsage(result)),
    llmrr: llmrrInfo(result, options.explain),
  };
}

/**
 * Legacy completion stream frames (`text_completion` chunks, optional usage chunk, `[DONE]`). When the request
 * asked for log probabilities (`options.logprobs`), a text chunk carries its tokens' `logprobs` (`text_offset`
 * from the prompt's start, `options.promptChars`, counting on across chunks): the text delta waits for the
 * `logprobs` part that follows it, as in `ChatStreamEncoder`; other streams send every delta at once, as before.
 */
export class CompletionStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';
  /** With `logprobs`: a text delta waiting for its `logprobs` part. */
  private held: string | undefined;
  /** With `logprobs`: the next token's `text_offset` (characters from the prompt's start). */
  private offset: number;
  /**
   * `data: {...,"choices":[{"text":` and `,"index":0,"logprobs":null,"finish_reason":null}]...}\n\n`: the constant
   * parts of a text chunk without log probabilities (`dataFrame(this.chunk(text, null))`, byte for byte), encoded once.
   */
  private textHead = '';
  private textTail = '';

  /** `logprobs`: the request asked for log probabilities; `promptChars`: see `CompletionLogprobsOptions`. */
  constructor(private readonly options: { created: number; includeUsage: boolean; explain: boolean } & CompletionLogprobsOptions) {
    this.offset = options.promptChars ?? 0;
  }

  private chunk(text: string, finishReason: CompletionFinish, tokens?: readonly TokenLogprob[]): OpenAICompletionResponse {
    let logprobs: OpenAICompletionResponse['choices'][number]['logprobs'] = null;
    if (tokens) {
      const converted = toCompletionLogprobs(tokens, this.offset);
      logprobs = converted.logprobs;
      this.offset = converted.end;
    }
    const c: OpenAICompletionResponse = {
      id: this.id,
      object: 'text_completion',
      created: this.options.created,
      model: this.model,
      system_fingerprint: null,
      choices: [{ text, index: 0, logprobs, finish_reason: finishReason }],
    };
    if (this.options.includeUsage) c.usage = null;
    return c;
  }

  start(route: RoutePart): string[] {
    this.id = completionId(route.requestId);
    this.model = route.deployment;
    const envelope = JSON.stringify({ id: this.id, object: 'text_completion', created: this.options.created, model: this.model, system_fingerprint: null });
    this.textHead = `data: ${envelope.slice(0, -1)},"choices":[{"text":`;
    this.textTail = `,"index":0,"logprobs":null,"finish_reason":null}]${this.options.includeUsage ? ',"usage":null' : ''}}\n\n`;
    return [];
  }

  /** A text chunk without log probabilities (only the text is serialized). */
  private textFrame(text: string): string {
    return `${this.textHead}${JSON.stringify(text)}${this.textTail}`;
  }

  /** Text is this wire's only content (reasoning and tool calls have no field on it): the first token is the first text. */
  carriesContent(part: StreamPart): boolean {
    return part.type === 'text-delta' && part.delta !== '';
  }

  part(part: StreamPart): string[] {
    if (this.options.logprobs === true) return this.withLogprobs(part);
    return part.type === 'text-delta' && part.delta !== '' ? [this.textFrame(part.delta)] : [];
  }

  /** `part` when log probabilities were asked for: a text delta waits for the `logprobs` part after it. */
  private withLogprobs(part: StreamPart): string[] {
    if (part.type === 'logprobs') {
      if (!Array.isArray(part.logprobs)) return this.flushHeld();
      const text = this.held ?? '';
      this.held = undefined;
      return [dataFrame(this.chunk(text, null, part.logprobs))];
    }
    const frames = this.flushHeld();
    // A refusal's text has no log probabilities of its own to wait for.
    if (part.type === 'text-delta' && part.delta !== '') {
      if (part.refusal === true) frames.push(this.textFrame(part.delta));
      else this.held = part.delta;
    }
    return frames;
  }

  /** The held text delta as a chunk of its own (no `logprobs` part came for it), or nothing. */
  private flushHeld(): string[] {
    const text = this.held;
    if (text === undefined) return [];
    this.held = undefined;
    return [this.textFrame(text)];
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    const held = this.flushHeld();
    const info = llmrrInfo(result, this.options.explain);
    const last = this.chunk('', completionFinishReason(part.finishReason));
    if (!this.options.includeUsage) return [...held, dataFrame({ ...last, llmrr: info }), DONE_FRAME];
    const usage: OpenAICompletionResponse = { ...this.chunk('', null), choices: [], usage: toOpenAIUsage(answerUsage(result)), llmrr: info };
    return [...held, dataFrame(last), dataFrame(usage), DONE_FRAME];
  }

  error(error: LLMError, requestId: string): string[] {
    return [...this.flushHeld(), dataFrame(errorBody(error, requestId))];
  }
}
