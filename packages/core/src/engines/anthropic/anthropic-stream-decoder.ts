import type { StreamPart } from '../../spec/stream-parts.js';
import type { Usage } from '../../spec/usage.js';
import type { CallWarning } from '../../spec/warnings.js';
import { ProviderStreamDecoder, type ProviderStreamContext } from '../shared/provider-stream-decoder.js';
import type { AnthropicResponseBlock, AnthropicStreamEvent, AnthropicUsageWire } from './anthropic-api-types.js';
import { anthropicStreamError } from './anthropic-error.js';
import { anthropicAnswerToolUseId } from './anthropic-tool-use-id.js';
import { convertAnthropicUsage, mergeAnthropicUsage } from './anthropic-usage.js';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason.js';

export interface AnthropicStreamContext extends ProviderStreamContext {
  /** JSON mode: calls of this tool are the answer, streamed as text. */
  jsonToolName?: string;
  /** What the request's mapping did not do as asked: sent as one `warnings` part before every other part. */
  warnings?: CallWarning[];
}

type Block =
  | { kind: 'text' }
  | { kind: 'reasoning'; signature: string }
  | { kind: 'json'; json: string; initial: unknown }
  | { kind: 'tool'; toolIndex: number; id: string; name: string; json: string; initial: unknown }
  | { kind: 'ignored' };

function hasKeys(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

/**
 * Turns the `data:` payloads of an Anthropic Messages event stream into stream parts: `response-metadata` and a
 * `usage` part with the prompt's counts (on `message_start`; see `startUsage`), a `usage` part with the answer's
 * counts on a `message_delta` that reports `output_tokens` (cumulative, as Anthropic's are), `text-delta`, `reasoning-delta`
 * (thinking; a block's `signature_delta` as a closing part with `signature`, a `redacted_thinking` block as one
 * part with `redactedData`), `tool-call-delta` / `tool-call` (input_json_delta pieces reassembled), then exactly
 * one `finish` (on `message_stop`, with the final usage, its output 0 when `message_delta` reported none, and, after stop
 * reason `stop_sequence`, the sequence) or one `error` part: an `error` event, invalid JSON, a
 * source failure (`interrupted`), or a stream that ends without `message_stop` (`end`, `stream_interrupted`).
 * Never a silent clean end. After the terminal part `done` is true and input is ignored. The context's
 * `warnings`, when there are any, come first, as one `warnings` part with the first event's parts.
 * The event type is read from the payload's `type`, so the SSE `event:` field is not needed.
 */
export class AnthropicStreamDecoder extends ProviderStreamDecoder {
  private readonly blocks = new Map<number, Block>();
  private usage: AnthropicUsageWire = {};
  /**
   * `message_delta` reported `output_tokens`. Anthropic-compatible APIs that send none there (MiniMax) leave only the
   * placeholder of `message_start` (1, or 0), which is not the answer's output.
   */
  private outputReported = false;
  private stopReason: string | null | undefined;
  /** The `stop_sequence` of `message_delta`: the stop sequence matched, with stop reason `stop_sequence`. */
  private stopSequence: string | null | undefined;
  private toolCount = 0;
  /** `message_start`'s message id: the made-up id of a tool call the upstream gave an empty id (`anthropicAnswerToolUseId`). */
  private messageId: string | undefined;
  /** The warnings part not yet sent. */
  private warnings: CallWarning[] | undefined;

  constructor(private readonly ctx: AnthropicStreamContext) {
    super(ctx);
    if (ctx.warnings && ctx.warnings.length > 0) this.warnings = ctx.warnings;
  }

  /**
   * The prompt's usage as `message_start` reports it (input, cache reads and writes), so a stream that
   * breaks before `message_stop` is still billed for its prompt and its prompt-cache use. Its output is 0, not the
   * placeholder `output_tokens` sent there (usually 1): the output is known only at the end, and whoever
   * bills a broken stream estimates it from the text sent (an output of 0 asks for that). The `finish` part
   * carries the final usage, which replaces this one. Undefined when the event reported no input.
   */
  private startUsage(): Usage | undefined {
    const usage = convertAnthropicUsage(this.usage);
    if (usage.inputTokens <= 0) return undefined;
    return { ...usage, outputTokens: 0, totalTokens: usage.inputTokens };
  }

  protected override ended(): StreamPart {
    return this.fail('stream ended before message_stop', 'stream_interrupted');
  }

  /** Pushes the parts of one event. */
  protected override read(data: string, parts: StreamPart[]): void {
    if (this.warnings) {
      parts.push({ type: 'warnings', warnings: this.warnings });
      this.warnings = undefined;
    }
    let event: AnthropicStreamEvent;
    try {
      event = JSON.parse(data) as AnthropicStreamEvent;
    } catch (e) {
      parts.push(this.fail(`stream sent invalid JSON: ${data.slice(0, 200)}`, 'invalid_response', e));
      return;
    }
    const jsonToolName = this.ctx.jsonToolName;
    switch (event.type) {
      case 'message_start': {
        this.usage = mergeAnthropicUsage(this.usage, event.message?.usage);
        this.messageId = event.message?.id;
        parts.push({ type: 'response-metadata', id: event.message?.id, model: event.message?.model });
        const start = this.startUsage();
        if (start) parts.push({ type: 'usage', usage: start });
        break;
      }
      case 'content_block_start': {
        const block = event.content_block as AnthropicResponseBlock;
        if (block.type === 'text') {
          this.blocks.set(event.index, { kind: 'text' });
          if (block.text && !jsonToolName) parts.push({ type: 'text-delta', delta: block.text });
        } else if (block.type === 'thinking') {
          this.blocks.set(event.index, { kind: 'reasoning', signature: block.signature ?? '' });
          if (block.thinking) parts.push({ type: 'reasoning-delta', delta: block.thinking });
        } else if (block.type === 'redacted_thinking') {
          // An encrypted thinking block comes whole: it is passed on whole, to be given back unchanged.
          this.blocks.set(event.index, { kind: 'ignored' });
          parts.push({ type: 'reasoning-delta', delta: '', redactedData: block.data ?? '' });
        } else if (block.type === 'tool_use' && block.name === jsonToolName) {
          this.blocks.set(event.index, { kind: 'json', json: '', initial: block.input });
        } else if (block.type === 'tool_use') {
          const toolIndex = this.toolCount++;
          const id = anthropicAnswerToolUseId(block.id, this.messageId, toolIndex);
          this.blocks.set(event.index, { kind: 'tool', toolIndex, id, name: block.name, json: '', initial: block.input });
          parts.push({ type: 'tool-call-delta', index: toolIndex, id, name: block.name, argumentsDelta: '' });
        } else {
          this.blocks.set(event.index, { kind: 'ignored' });
        }
        break;
      }
      case 'content_block_delta': {
        const block = this.blocks.get(event.index);
        const delta = event.delta;
        if (!block) {
          parts.push(this.fail(`content_block_delta for unknown block ${event.index}`, 'invalid_response'));
          return;
        }
        if (delta.type === 'text_delta' && block.kind === 'text') {
          if (delta.text && !jsonToolName) parts.push({ type: 'text-delta', delta: delta.text });
        } else if (delta.type === 'thinking_delta' && block.kind === 'reasoning') {
          if (delta.thinking) parts.push({ type: 'reasoning-delta', delta: delta.thinking });
        } else if (delta.type === 'signature_delta' && block.kind === 'reasoning') {
          block.signature += delta.signature;
        } else if (delta.type === 'input_json_delta' && block.kind === 'json') {
          block.json += delta.partial_json;
          if (delta.partial_json) parts.push({ type: 'text-delta', delta: delta.partial_json });
        } else if (delta.type === 'input_json_delta' && block.kind === 'tool') {
          block.json += delta.partial_json;
          if (delta.partial_json) parts.push({ type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: delta.partial_json });
        }
        // citations_delta and deltas of skipped blocks carry nothing we report.
        break;
      }
      case 'content_block_stop': {
        const block = this.blocks.get(event.index);
        if (block?.kind === 'json' && block.json === '') {
          // The whole input came with content_block_start (no deltas): that is the answer.
          parts.push({ type: 'text-delta', delta: JSON.stringify(block.initial ?? {}) });
        } else if (block?.kind === 'reasoning' && block.signature !== '') {
          // The signature (sent just before content_block_stop) closes the thinking block.
          parts.push({ type: 'reasoning-delta', delta: '', signature: block.signature });
        } else if (block?.kind === 'tool') {
          const args = block.json !== '' ? block.json : hasKeys(block.initial) ? JSON.stringify(block.initial) : '{}';
          if (block.json === '' && args !== '{}') parts.push({ type: 'tool-call-delta', index: block.toolIndex, argumentsDelta: args });
          parts.push({ type: 'tool-call', index: block.toolIndex, toolCall: { id: block.id, name: block.name, arguments: args } });
        }
        break;
      }
      case 'message_delta': {
        if (event.delta?.stop_reason !== undefined) this.stopReason = event.delta.stop_reason;
        if (event.delta?.stop_sequence !== undefined) this.stopSequence = event.delta.stop_sequence;
        this.usage = mergeAnthropicUsage(this.usage, event.usage);
        if (event.usage?.output_tokens != null) {
          this.outputReported = true;
          // The answer's usage as billed (message_delta's counts are cumulative: this replaces message_start's), so a
          // stream that breaks before message_stop is billed the output the provider reported, not an estimate.
          parts.push({ type: 'usage', usage: convertAnthropicUsage(this.usage) });
        }
        break;
      }
      case 'message_stop': {
        const finishReason = mapAnthropicFinishReason(this.stopReason, this.toolCount > 0);
        const usage = convertAnthropicUsage(this.usage);
        if (!this.outputReported) {
          // No output count: 0, not message_start's placeholder; the router estimates it from the answer streamed
          // (`completeUsage`, marked `estimated`), the prompt's counts stand.
          usage.outputTokens = 0;
          usage.totalTokens = usage.inputTokens;
        }
        const finish: StreamPart = { type: 'finish', finishReason, usage };
        if (this.stopReason === 'stop_sequence' && typeof this.stopSequence === 'string') finish.stopSequence = this.stopSequence;
        parts.push(this.terminal(finish));
        break;
      }
      case 'error': {
        parts.push(this.terminal({ type: 'error', error: anthropicStreamError(event, this.context) }));
        break;
      }
      default:
        // `ping` and event types added later.
        break;
    }
  }
}
