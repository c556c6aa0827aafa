import type { LLMError, RouterResult, StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { OpenAICompletionResponse } from '../schemas/openai-completions.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { StreamEncoder } from '../streaming/sse-response.js';
import { DONE_FRAME, dataFrame } from './chat-stream-encoder.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toOpenAIUsage } from './usage.js';

export function completionId(requestId: string): string {
  return `cmpl-${requestId}`;
}

type CompletionFinish = OpenAICompletionResponse['choices'][number]['finish_reason'];

function completionFinishReason(result: RouterResult['finishReason']): CompletionFinish {
  const r = toOpenAIFinishReason(result);
  return r === 'tool_calls' ? 'stop' : r;
}

/** A router result as a legacy `text_completion` object. */
export function toTextCompletion(result: RouterResult, options: { created: number; explain: boolean }): OpenAICompletionResponse {
  return {
    id: completionId(result.requestId),
    object: 'text_completion',
    created: options.created,
    model: result.deployment,
    system_fingerprint: null,
    choices: [{ text: result.text, index: 0, logprobs: null, finish_reason: completionFinishReason(result.finishReason) }],
    usage: toOpenAIUsage(answerUsage(result)),
    llmrr: llmrrInfo(result, options.explain),
  };
}

/** Legacy completion stream frames (`text_completion` chunks, optional usage chunk, `[DONE]`). */
export class CompletionStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';

  constructor(private readonly options: { created: number; includeUsage: boolean; explain: boolean }) {}

  private chunk(text: string, finishReason: CompletionFinish): OpenAICompletionResponse {
    const c: OpenAICompletionResponse = {
      id: this.id,
      object: 'text_completion',
      created: this.options.created,
      model: this.model,
      system_fingerprint: null,
      choices: [{ text, index: 0, logprobs: null, finish_reason: finishReason }],
    };
    if (this.options.includeUsage) c.usage = null;
    return c;
  }

  start(route: RoutePart): string[] {
    this.id = completionId(route.requestId);
    this.model = route.deployment;
    return [];
  }

  part(part: StreamPart): string[] {
    return part.type === 'text-delta' && part.delta !== '' ? [dataFrame(this.chunk(part.delta, null))] : [];
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    const info = llmrrInfo(result, this.options.explain);
    const last = this.chunk('', completionFinishReason(part.finishReason));
    if (!this.options.includeUsage) return [dataFrame({ ...last, llmrr: info }), DONE_FRAME];
    const usage: OpenAICompletionResponse = { ...this.chunk('', null), choices: [], usage: toOpenAIUsage(answerUsage(result)), llmrr: info };
    return [dataFrame(last), dataFrame(usage), DONE_FRAME];
  }

  error(error: LLMError, requestId: string): string[] {
    return [dataFrame(errorBody(error, requestId))];
  }
}
