import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import type { AnthropicResponseBlock, AnthropicStreamEvent, AnthropicUsageWire } from './anthropic-api-types.js';
import { anthropicStreamError } from './anthropic-error.js';
import { convertAnthropicUsage, mergeAnthropicUsage } from './anthropic-usage.js';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason.js';

/** One server-sent event (what `sseEvents` yields). */
export interface SseMessage {
  event?: string;
  data: string;
}

export interface AnthropicStreamContext {
  provider: string;
  deployment?: string;
  /** JSON mode: calls of this tool are the answer, streamed as text. */
  jsonToolName?: string;
  /** The call's signal: when the source fails after it aborted, the error is `aborted`/`timeout`. */
  signal?: AbortSignal;
}

type Block =
  | { kind: 'text' }
  | { kind: 'reasoning' }
  | { kind: 'json'; json: string; initial: unknown }
  | { kind: 'tool'; toolIndex: number; id: string; name: string; json: string; initial: unknown }
  | { kind: 'ignored' };

function hasKeys(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/**
 * Decodes an Anthropic Messages event stream into our stream parts: `response-metadata`, `text-delta`,
 * `reasoning-delta` (thinking), `tool-call-delta` / `tool-call` (input_json_delta pieces reassembled),
 * then exactly one `finish` (on `message_stop`) or one `error` part: an `error` event, a source failure,
 * or a stream that ends without `message_stop` (`stream_interrupted`). Never a silent clean end.
 */
export async function* decodeAnthropicStream(events: AsyncIterable<SseMessage>, ctx: AnthropicStreamContext): AsyncGenerator<StreamPart> {
  const context = { provider: ctx.provider, deployment: ctx.deployment };
  const blocks = new Map<number, Block>();
  let usage: AnthropicUsageWire = {};
  let stopReason: string | null | undefined;
  let toolCount = 0;

  function fail(message: string, code: 'invalid_response' | 'stream_interrupted', cause?: unknown): StreamPart {
    return { type: 'error', error: new LLMError({ code, message: `${ctx.provider}: ${message}`, cause, ...context }) };
  }

  try {
    for await (const message of events) {
      let event: AnthropicStreamEvent;
      try {
        event = JSON.parse(message.data) as AnthropicStreamEvent;
      } catch (e) {
        yield fail(`stream sent invalid JSON: ${message.data.slice(0, 200)}`, 'invalid_response', e);
        return;
      }
      switch (event.type) {
        case 'message_start': {
          usage = mergeAnthropicUsage(usage, event.message?.usage);
          yield { type: 'response-metadata', id: event.message?.id, model: event.message?.model };
          break;
        }
        case 'content_block_start': {
          const block = event.content_block as AnthropicResponseBlock;
          if (block.type === 'text') {
            blocks.set(event.index, { kind: 'text' });
            if (block.text && !ctx.jsonToolName) yield { type: 'text-delta', delta: block.text };
          } else if (block.type === 'thinking') {
            blocks.set(event.index, { kind: 'reasoning' });
            if (block.thinking) yield { type: 'reasoning-delta', delta: block.thinking };
          } else if (block.type === 'tool_use' && block.name === ctx.jsonToolName) {
            blocks.set(event.index, { kind: 'json', json: '', initial: block.input });
          } else if (block.type === 'tool_use') {
            const toolIndex = toolCount++;
            blocks.set(event.index, { kind: 'tool', toolIndex, id: block.id, name: block.name, json: '', initial: block.input });
            yield { type: 'tool-call-delta', index: toolIndex, id: block.id, name: block.name, argumentsDelta: '' };
          } else {
            blocks.set(event.index, { kind: 'ignored' });
          }
          break;
        }
        case 'content_block_delta': {
          const block = blocks.get(event.index);
          const delta = event.delta;
          if (!block) {
            yield fail(`content_block_delta for unknown block ${event.index}`, 'invalid_response');
            return;
          }
          if (delta.type === 'text_delta' && block.kind === 'text') {
            if (delta.text && !ctx.jsonToolName) yield { type: 'text-delta', delta: delta.text };
          } else if (delta.type === 'thinking_delta' && block.kind === 'reasoning') {
            if (delta.thinking) yield { type: 'reasoning-delta', delta: delta.thinking };
          } else if (delta.type === 'input_json_delta' && block.kind === 'json') {
            block.json += delta.partial_json;
            if (delta.partial_json) yield { type: 'text-delta', delta: delta.partial_json };
          } else if (delta.type === 'input_json_delta' && block.kind === 'tool') {
            block.json += delta.partial_json;
            if (delta.partial_json) yield { type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: delta.partial_json };
          }
          // signature_delta, citations_delta and deltas of skipped blocks carry nothing we report.
          break;
        }
        case 'content_block_stop': {
          const block = blocks.get(event.index);
          if (block?.kind === 'json' && block.json === '') {
            // The whole input came with content_block_start (no deltas): that is the answer.
            yield { type: 'text-delta', delta: JSON.stringify(block.initial ?? {}) };
          } else if (block?.kind === 'tool') {
            const args = block.json !== '' ? block.json : hasKeys(block.initial) ? JSON.stringify(block.initial) : '{}';
            if (block.json === '' && args !== '{}') yield { type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: args };
            yield { type: 'tool-call', index: block.toolIndex, toolCall: { id: block.id, name: block.name, arguments: args } };
          }
          break;
        }
        case 'message_delta': {
          if (event.delta?.stop_reason !== undefined) stopReason = event.delta.stop_reason;
          usage = mergeAnthropicUsage(usage, event.usage);
          break;
        }
        case 'message_stop': {
          yield { type: 'finish', finishReason: mapAnthropicFinishReason(stopReason, toolCount > 0), usage: convertAnthropicUsage(usage) };
          return;
        }
        case 'error': {
          yield { type: 'error', error: anthropicStreamError(event, context) };
          return;
        }
        default:
          // `ping` and event types added later.
          break;
      }
    }
  } catch (e) {
    if (ctx.signal?.aborted) {
      yield { type: 'error', error: abortError(ctx.signal, context) };
    } else if (LLMError.isInstance(e)) {
      yield { type: 'error', error: toLLMError(e, context) };
    } else {
      const reason = e instanceof Error ? e.message : String(e);
      yield fail(`stream interrupted: ${reason}`, 'stream_interrupted', e);
    }
    return;
  }
  yield fail('stream ended before message_stop', 'stream_interrupted');
}
