import type { LLMError, RouterResult, StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import type { AnthropicStreamEvent } from '../schemas/anthropic-messages.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { StreamEncoder } from '../streaming/sse-response.js';
import { messageId, toAnthropicStopReason } from './message-response.js';

type EventWithExtras = AnthropicStreamEvent | (AnthropicStreamEvent & Record<string, unknown>);

function event(e: EventWithExtras): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * Anthropic Messages streaming events in Anthropic's order: `message_start`, `ping`, per content block
 * `content_block_start` / `content_block_delta`* / `content_block_stop`, then `message_delta` (stop reason,
 * usage) and `message_stop`. A stream that breaks after its first byte ends with `event: error`.
 */
export class AnthropicStreamEncoder implements StreamEncoder {
  private blockIndex = -1;
  private open: { kind: 'text' } | { kind: 'tool'; toolIndex: number } | undefined;
  private readonly toolBlocks = new Map<number, number>();

  constructor(private readonly options: { explain: boolean }) {}

  start(route: RoutePart): string[] {
    return [
      event({
        type: 'message_start',
        message: {
          id: messageId(route.requestId),
          type: 'message',
          role: 'assistant',
          model: route.deployment,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
      event({ type: 'ping' }),
    ];
  }

  private close(): string[] {
    if (!this.open) return [];
    this.open = undefined;
    return [event({ type: 'content_block_stop', index: this.blockIndex })];
  }

  part(part: StreamPart): string[] {
    const frames: string[] = [];
    if (part.type === 'text-delta') {
      if (part.delta === '') return frames;
      if (this.open?.kind !== 'text') {
        frames.push(...this.close());
        this.blockIndex++;
        this.open = { kind: 'text' };
        frames.push(event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'text', text: '' } }));
      }
      frames.push(event({ type: 'content_block_delta', index: this.blockIndex, delta: { type: 'text_delta', text: part.delta } }));
      return frames;
    }
    if (part.type === 'tool-call-delta' || part.type === 'tool-call') {
      const isWhole = part.type === 'tool-call';
      if (isWhole && this.toolBlocks.has(part.index)) return frames;
      if (!(this.open?.kind === 'tool' && this.open.toolIndex === part.index)) {
        if (this.toolBlocks.has(part.index)) return frames; // a late delta for a closed block: nothing to add to
        frames.push(...this.close());
        this.blockIndex++;
        this.open = { kind: 'tool', toolIndex: part.index };
        this.toolBlocks.set(part.index, this.blockIndex);
        const id = isWhole ? part.toolCall.id : (part.id ?? `toolu_${part.index}`);
        const name = isWhole ? part.toolCall.name : (part.name ?? '');
        frames.push(event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'tool_use', id, name, input: {} } }));
      }
      const json = isWhole ? part.toolCall.arguments : part.argumentsDelta;
      if (json !== '') frames.push(event({ type: 'content_block_delta', index: this.blockIndex, delta: { type: 'input_json_delta', partial_json: json } }));
      return frames;
    }
    return frames;
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    return [
      ...this.close(),
      event({
        type: 'message_delta',
        delta: { stop_reason: toAnthropicStopReason(part.finishReason), stop_sequence: null },
        usage: { output_tokens: result.usage.outputTokens, input_tokens: result.usage.inputTokens },
        llmrr: llmrrInfo(result, this.options.explain),
      }),
      event({ type: 'message_stop' }),
    ];
  }

  error(error: LLMError, requestId: string): string[] {
    return [event({ type: 'error', ...errorBody(error, requestId, 'anthropic') } as EventWithExtras)];
  }
}
