import type { LLMError, RouterResult, StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import type { OpenAIResponseStreamEvent, ResponsesOutputItem } from '../schemas/openai-responses.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { FinishPart, StreamEncoder } from '../streaming/sse-response.js';
import { pendingResponse, responseIds, toResponseObject, type ResponseEcho } from './response-object.js';

type Event = OpenAIResponseStreamEvent;
/** An event before its number is given (`sequence_number` is added as it is framed). */
type Unnumbered = Event extends infer E ? (E extends Event ? Omit<E, 'sequence_number'> : never) : never;

type OpenItem =
  | { kind: 'message'; index: number; id: string; text: string }
  | { kind: 'reasoning'; index: number; id: string; text: string }
  | { kind: 'function'; index: number; id: string; toolIndex: number; callId: string; name: string; args: string };

/**
 * The Responses API streaming events in OpenAI's order: `response.created`, `response.in_progress`, then per
 * output item `response.output_item.added`, its content part (`response.content_part.added`, text or
 * reasoning deltas, `.done`, `response.content_part.done`) or its function-call argument deltas and
 * `response.function_call_arguments.done`, and `response.output_item.done`; finally `response.completed`
 * (or `response.incomplete` after a length or content-filter finish) with the whole response and usage.
 * Every event has `event: <type>` and a `sequence_number` from 0. A stream that breaks after its first byte
 * ends with the `error` event.
 */
export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private requestId = '';
  private open: OpenItem | undefined;
  private readonly items: ResponsesOutputItem[] = [];
  private readonly toolsSeen = new Set<number>();
  private messages = 0;

  constructor(private readonly options: { createdAt: number; echo: ResponseEcho; explain: boolean }) {}

  private frame(e: Unnumbered): string {
    const event = { ...e, sequence_number: this.seq++ } as Event;
    return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  }

  start(route: RoutePart): string[] {
    this.requestId = route.requestId;
    const response = pendingResponse(route.requestId, route.deployment, this.options.createdAt, this.options.echo);
    return [this.frame({ type: 'response.created', response }), this.frame({ type: 'response.in_progress', response })];
  }

  private openText(kind: 'message' | 'reasoning'): string[] {
    const index = this.items.length;
    if (kind === 'message') {
      const id = this.messages++ === 0 ? responseIds.message(this.requestId) : `${responseIds.message(this.requestId)}_${this.messages - 1}`;
      this.open = { kind, index, id, text: '' };
      return [
        this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } }),
        this.frame({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
      ];
    }
    const id = `${responseIds.reasoning(this.requestId)}${index > 0 ? `_${index}` : ''}`;
    this.open = { kind, index, id, text: '' };
    return [
      this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'reasoning', id, summary: [], content: [], status: 'in_progress' } }),
      this.frame({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text: '' } }),
    ];
  }

  private openFunction(toolIndex: number, callId: string, name: string): string[] {
    const index = this.items.length;
    const id = responseIds.functionCall(this.requestId, toolIndex);
    this.toolsSeen.add(toolIndex);
    this.open = { kind: 'function', index, id, toolIndex, callId, name, args: '' };
    return [this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'function_call', id, call_id: callId, name, arguments: '', status: 'in_progress' } })];
  }

  /** Closes the open item (its `.done` events); `incomplete` marks a message cut by a length finish. */
  private close(incomplete = false): string[] {
    const o = this.open;
    if (!o) return [];
    this.open = undefined;
    const at = { item_id: o.id, output_index: o.index };
    if (o.kind === 'function') {
      const item: ResponsesOutputItem = { type: 'function_call', id: o.id, call_id: o.callId, name: o.name, arguments: o.args, status: 'completed' };
      this.items.push(item);
      return [this.frame({ type: 'response.function_call_arguments.done', ...at, name: o.name, arguments: o.args }), this.frame({ type: 'response.output_item.done', output_index: o.index, item })];
    }
    if (o.kind === 'reasoning') {
      const part = { type: 'reasoning_text' as const, text: o.text };
      const item: ResponsesOutputItem = { type: 'reasoning', id: o.id, summary: [], content: [part], status: 'completed' };
      this.items.push(item);
      return [
        this.frame({ type: 'response.reasoning_text.done', ...at, content_index: 0, text: o.text }),
        this.frame({ type: 'response.content_part.done', ...at, content_index: 0, part }),
        this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
      ];
    }
    const part = { type: 'output_text' as const, text: o.text, annotations: [], logprobs: [] };
    const item: ResponsesOutputItem = { type: 'message', id: o.id, status: incomplete ? 'incomplete' : 'completed', role: 'assistant', content: [part] };
    this.items.push(item);
    return [
      this.frame({ type: 'response.output_text.done', ...at, content_index: 0, text: o.text, logprobs: [] }),
      this.frame({ type: 'response.content_part.done', ...at, content_index: 0, part }),
      this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
    ];
  }

  part(part: StreamPart): string[] {
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta': {
        if (part.delta === '') return [];
        const kind = part.type === 'text-delta' ? 'message' : 'reasoning';
        const frames = this.open?.kind === kind ? [] : [...this.close(), ...this.openText(kind)];
        const o = this.open!;
        if (o.kind === 'function') return frames;
        o.text += part.delta;
        const at = { item_id: o.id, output_index: o.index, content_index: 0, delta: part.delta };
        frames.push(this.frame(kind === 'message' ? { type: 'response.output_text.delta', ...at, logprobs: [] } : { type: 'response.reasoning_text.delta', ...at }));
        return frames;
      }
      case 'tool-call-delta': {
        const o = this.open;
        if (o?.kind === 'function' && o.toolIndex === part.index) {
          if (part.argumentsDelta === '') return [];
          o.args += part.argumentsDelta;
          return [this.frame({ type: 'response.function_call_arguments.delta', item_id: o.id, output_index: o.index, delta: part.argumentsDelta })];
        }
        if (this.toolsSeen.has(part.index)) return []; // a late delta for a closed call: nothing to add to
        const frames = [...this.close(), ...this.openFunction(part.index, part.id ?? `call_${part.index}`, part.name ?? '')];
        const f = this.open as Extract<OpenItem, { kind: 'function' }>;
        if (part.argumentsDelta !== '') {
          f.args = part.argumentsDelta;
          frames.push(this.frame({ type: 'response.function_call_arguments.delta', item_id: f.id, output_index: f.index, delta: part.argumentsDelta }));
        }
        return frames;
      }
      case 'tool-call': {
        const o = this.open;
        const c = part.toolCall;
        if (o?.kind === 'function' && o.toolIndex === part.index) {
          // The whole call after its deltas: it is authoritative (the done events carry it).
          o.callId = c.id;
          o.name = c.name;
          o.args = c.arguments;
          return [];
        }
        if (this.toolsSeen.has(part.index)) return [];
        // Engines that emit whole calls without deltas: the arguments as one delta.
        const frames = [...this.close(), ...this.openFunction(part.index, c.id, c.name)];
        const f = this.open as Extract<OpenItem, { kind: 'function' }>;
        f.args = c.arguments;
        if (c.arguments !== '') frames.push(this.frame({ type: 'response.function_call_arguments.delta', item_id: f.id, output_index: f.index, delta: c.arguments }));
        return frames;
      }
      default:
        return [];
    }
  }

  finish(part: FinishPart, result: RouterResult): string[] {
    const incomplete = part.finishReason === 'length' || part.finishReason === 'content-filter';
    const frames = this.close(incomplete);
    // An answer with no output at all still has its (empty) message, as the non-streamed answer does.
    if (this.items.length === 0) frames.push(...this.openText('message'), ...this.close(incomplete));
    const response = toResponseObject({ ...result, finishReason: part.finishReason }, { createdAt: this.options.createdAt, echo: this.options.echo, explain: this.options.explain, output: this.items });
    frames.push(this.frame({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response }));
    return frames;
  }

  error(error: LLMError, requestId: string): string[] {
    const body = errorBody(error, requestId).error;
    return [this.frame({ type: 'error', code: body.code, message: body.message, param: body.param, error: body })];
  }
}
