import { LLMError, type RouterResult, type StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import type { OpenAIChatChunk } from '../schemas/openai-chat.js';
import { pairFinalToolCalls, quoteArgs, type SeenToolCall } from '../streaming/final-tool-calls.js';
import { sameJson } from '../streaming/json-end.js';
import type { StreamEncoder } from '../streaming/sse-response.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { chatCompletionId } from './chat-response.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toOpenAIUsage } from './usage.js';

type Choice = OpenAIChatChunk['choices'][number];
type Delta = Choice['delta'];

/** A tool call sent in the stream, by its index. */
interface SentToolCall extends SeenToolCall {
  index: number;
  id: string;
  name: string;
  /** The arguments sent so far (the client joins them). */
  sent: string;
  /** Its whole `tool-call` part came. */
  whole: boolean;
}

export const DONE_FRAME = 'data: [DONE]\n\n';

export function dataFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/**
 * OpenAI `chat.completion.chunk` frames, as the OpenAI API sends them: a first chunk with the role,
 * content deltas, tool-call deltas (id/type/name on a call's first delta), a finish chunk with an empty
 * delta, then (with `stream_options.include_usage`) a chunk with empty `choices` and the usage, then `[DONE]`.
 *
 * Tool-call pieces are sent as they come (clients join them by `index`, interleaved or not). A call's whole
 * `tool-call` part, and at the finish the router result's calls (the non-streamed answer's), are checked
 * against what was sent: a call never sent is sent whole (at the finish: before the finish chunk, at the next
 * free index); sent arguments that are a prefix of the final ones get the missing suffix; the same JSON value
 * needs nothing. Sent arguments cannot be taken back, so any other difference is an error (the stream ends
 * with its error chunk), never a silent mismatch.
 */
export class ChatStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';
  private readonly toolCalls = new Map<number, SentToolCall>();
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
        const sent = this.toolCalls.get(part.index);
        if (!sent) {
          const call = { index: part.index, id: part.id ?? `call_${part.index}`, type: 'function' as const, function: { name: part.name ?? '', arguments: part.argumentsDelta } };
          this.toolCalls.set(part.index, { index: part.index, id: call.id, name: call.function.name, resultId: part.id ?? '', sent: part.argumentsDelta, whole: false });
          return [dataFrame(this.chunk({ tool_calls: [call] }))];
        }
        if (part.id) sent.resultId = part.id;
        if (!sent.name && part.name) sent.name = part.name;
        sent.sent += part.argumentsDelta;
        return part.argumentsDelta === '' ? [] : [dataFrame(this.chunk({ tool_calls: [{ index: part.index, function: { arguments: part.argumentsDelta } }] }))];
      }
      case 'tool-call': {
        const c = part.toolCall;
        const sent = this.toolCalls.get(part.index);
        if (sent) {
          if (sent.whole) return [];
          sent.whole = true;
          sent.resultId = c.id;
          return this.complete(sent, c.arguments);
        }
        // Engines that emit whole calls without deltas: send the call as one delta.
        this.toolCalls.set(part.index, { index: part.index, id: c.id, name: c.name, resultId: c.id, sent: c.arguments, whole: true });
        return [this.wholeCallFrame(part.index, c)];
      }
      default:
        return [];
    }
  }

  private wholeCallFrame(index: number, c: { id: string; name: string; arguments: string }): string {
    return dataFrame(this.chunk({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }] }));
  }

  /** A sent call's final arguments: the missing suffix, nothing (the same JSON), or an error. */
  private complete(sent: SentToolCall, args: string): string[] {
    if (args === sent.sent || sameJson(args, sent.sent)) return [];
    if (!args.startsWith(sent.sent)) {
      throw new LLMError({
        code: 'invalid_response',
        message: `Tool call ${sent.id} (${sent.name || `index ${sent.index}`}) has the arguments ${quoteArgs(args)} but ${quoteArgs(sent.sent)} were streamed; they cannot be taken back`,
      });
    }
    const suffix = args.slice(sent.sent.length);
    sent.sent = args;
    return [dataFrame(this.chunk({ tool_calls: [{ index: sent.index, function: { arguments: suffix } }] }))];
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    const frames: string[] = [];
    // The router result's calls: final arguments for calls whose whole part never came, calls never sent.
    if (result.toolCalls.length > 0) {
      const { paired, unseen } = pairFinalToolCalls(this.toolCalls.values(), result.toolCalls);
      for (const [c, w] of paired) if (!c.whole) frames.push(...this.complete(c, w.arguments));
      let index = Math.max(-1, ...this.toolCalls.keys());
      for (const w of unseen) frames.push(this.wholeCallFrame(++index, w));
    }
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
