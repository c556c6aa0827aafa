import type { LLMError, RouterResult, StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import type { OpenAIChatChunk } from '../schemas/openai-chat.js';
import type { StreamEncoder } from '../streaming/sse-response.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { chatCompletionId } from './chat-response.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toOpenAIUsage } from './usage.js';

type Choice = OpenAIChatChunk['choices'][number];
type Delta = Choice['delta'];

export const DONE_FRAME = 'data: [DONE]\n\n';

export function dataFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/**
 * OpenAI `chat.completion.chunk` frames, as the OpenAI API sends them: a first chunk with the role,
 * content deltas, tool-call deltas (id/type/name on a call's first delta), a finish chunk with an empty
 * delta, then (with `stream_options.include_usage`) a chunk with empty `choices` and the usage, then `[DONE]`.
 */
export class ChatStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';
  private readonly toolCallsStarted = new Set<number>();
  /** `data: {...,"choices":[{"index":0,"delta":` and `,"logprobs":null,"finish_reason":null}]...}\n\n`: the constant parts of a content chunk, encoded once per stream. */
  private head = '';
  private tail = '';

  constructor(private readonly options: { created: number; includeUsage: boolean; explain: boolean }) {}

  private chunk(delta: Delta, finishReason: Choice['finish_reason'] = null): OpenAIChatChunk {
    const chunk: OpenAIChatChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.options.created,
      model: this.model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (this.options.includeUsage) chunk.usage = null;
    return chunk;
  }

  start(route: RoutePart): string[] {
    this.id = chatCompletionId(route.requestId);
    this.model = route.deployment;
    // The bytes of dataFrame(this.chunk(delta)), key order included; only the delta is serialized per chunk.
    const envelope = JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.options.created, model: this.model, system_fingerprint: null });
    this.head = `data: ${envelope.slice(0, -1)},"choices":[{"index":0,"delta":`;
    this.tail = `,"logprobs":null,"finish_reason":null}]${this.options.includeUsage ? ',"usage":null' : ''}}\n\n`;
    return [dataFrame(this.chunk({ role: 'assistant', content: '', refusal: null }))];
  }

  /** A chunk with this delta and no finish reason. */
  private deltaFrame(delta: Delta): string {
    return this.head + JSON.stringify(delta) + this.tail;
  }

  part(part: StreamPart): string[] {
    switch (part.type) {
      case 'text-delta':
        return part.delta === '' ? [] : [this.deltaFrame({ content: part.delta })];
      case 'reasoning-delta':
        return part.delta === '' ? [] : [this.deltaFrame({ reasoning_content: part.delta })];
      case 'tool-call-delta': {
        if (!this.toolCallsStarted.has(part.index)) {
          this.toolCallsStarted.add(part.index);
          const call = { index: part.index, id: part.id ?? `call_${part.index}`, type: 'function' as const, function: { name: part.name ?? '', arguments: part.argumentsDelta } };
          return [dataFrame(this.chunk({ tool_calls: [call] }))];
        }
        return part.argumentsDelta === '' ? [] : [dataFrame(this.chunk({ tool_calls: [{ index: part.index, function: { arguments: part.argumentsDelta } }] }))];
      }
      case 'tool-call': {
        // Engines that emit whole calls without deltas: send the call as one delta.
        if (this.toolCallsStarted.has(part.index)) return [];
        this.toolCallsStarted.add(part.index);
        const c = part.toolCall;
        return [dataFrame(this.chunk({ tool_calls: [{ index: part.index, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }] }))];
      }
      default:
        return [];
    }
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    const frames: string[] = [];
    const last = this.chunk({}, toOpenAIFinishReason(part.finishReason));
    const info = llmrrInfo(result, this.options.explain);
    if (this.options.includeUsage) {
      frames.push(dataFrame(last));
      frames.push(
        dataFrame({
          id: this.id,
          object: 'chat.completion.chunk',
          created: this.options.created,
          model: this.model,
          system_fingerprint: null,
          choices: [],
          usage: toOpenAIUsage(result.usage),
          llmrr: info,
        } satisfies OpenAIChatChunk),
      );
    } else {
      frames.push(dataFrame({ ...last, llmrr: info }));
    }
    frames.push(DONE_FRAME);
    return frames;
  }

  error(error: LLMError, requestId: string): string[] {
    return [dataFrame(errorBody(error, requestId))];
  }
}
