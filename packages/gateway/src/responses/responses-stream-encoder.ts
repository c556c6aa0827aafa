import type { LLMError, RouterResult, StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import type { OpenAIResponseStreamEvent, ResponsesOutputItem } from '../schemas/openai-responses.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { FinishPart, StreamEncoder } from '../streaming/sse-response.js';
import { isCut, pendingResponse, reasoningItem, responseIds, toResponseObject, type ResponseEcho } from './response-object.js';

type Event = OpenAIResponseStreamEvent;
/** An event before its number is given (`sequence_number` is added as it is framed). */
type Unnumbered = Event extends infer E ? (E extends Event ? Omit<E, 'sequence_number'> : never) : never;

/** The open message or reasoning item (at most one at a time). */
interface OpenText {
  kind: 'message' | 'reasoning';
  index: number;
  id: string;
  text: string;
}

/** An open function-call item. */
interface OpenCall {
  index: number;
  id: string;
  toolIndex: number;
  /** Sent on `output_item.added`; never changed after. */
  callId: string;
  name: string;
  args: string;
  /** The whole call (a `tool-call` part) came: its arguments are final, later pieces are ignored. */
  whole: boolean;
}

/**
 * The Responses API streaming events in OpenAI's order: `response.created`, `response.in_progress`, then per
 * output item `response.output_item.added`, its content part (`response.content_part.added`, text or
 * reasoning deltas, `.done`, `response.content_part.done`) or its function-call argument deltas and
 * `response.function_call_arguments.done`, and `response.output_item.done`; finally `response.completed`
 * (or `response.incomplete` after a length or content-filter finish) with the whole response and usage.
 * Reasoning is sent twice over: as `reasoning_text` content (`response.reasoning_text.*`) and as one summary
 * part (`response.reasoning_summary_part.*`, `response.reasoning_summary_text.*`), which is what the Vercel
 * AI SDK reads.
 *
 * Every event has `event: <type>` and a `sequence_number` from 0; events of an item carry its `output_index`
 * (its place in the final `output`, in the order the items were added). Parallel tool calls may interleave
 * their argument pieces, so one function-call item per tool index stays open; they are all closed when text
 * or reasoning starts, or at the finish, with the arguments of the whole call (the `tool-call` part, else
 * the router result's call with the same id). A call id, once sent, is never changed. On a length or
 * content-filter finish the last item is `incomplete`. A stream that breaks after its first byte ends with
 * the `error` event.
 */
export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private requestId = '';
  /** The output items by `output_index`; `undefined` while the item is open. */
  private readonly output: Array<ResponsesOutputItem | undefined> = [];
  private text: OpenText | undefined;
  /** Open function-call items by tool index. */
  private readonly calls = new Map<number, OpenCall>();
  /** Tool indexes whose item is done: later pieces have nothing to add to. */
  private readonly callsDone = new Set<number>();
  private messages = 0;
  private reasonings = 0;

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

  /** `base`, then `base_1`, `base_2`... for later items of the same kind. */
  private static nth(base: string, n: number): string {
    return n === 0 ? base : `${base}_${n}`;
  }

  private openText(kind: 'message' | 'reasoning'): string[] {
    const index = this.output.push(undefined) - 1;
    if (kind === 'message') {
      const id = ResponsesStreamEncoder.nth(responseIds.message(this.requestId), this.messages++);
      this.text = { kind, index, id, text: '' };
      return [
        this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } }),
        this.frame({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
      ];
    }
    const id = ResponsesStreamEncoder.nth(responseIds.reasoning(this.requestId), this.reasonings++);
    this.text = { kind, index, id, text: '' };
    const at = { item_id: id, output_index: index };
    return [
      this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'reasoning', id, summary: [], content: [], status: 'in_progress' } }),
      this.frame({ type: 'response.reasoning_summary_part.added', ...at, summary_index: 0, part: { type: 'summary_text', text: '' } }),
      this.frame({ type: 'response.content_part.added', ...at, content_index: 0, part: { type: 'reasoning_text', text: '' } }),
    ];
  }

  private textDelta(o: OpenText, delta: string): string[] {
    o.text += delta;
    const at = { item_id: o.id, output_index: o.index };
    if (o.kind === 'message') return [this.frame({ type: 'response.output_text.delta', ...at, content_index: 0, delta, logprobs: [] })];
    return [
      this.frame({ type: 'response.reasoning_summary_text.delta', ...at, summary_index: 0, delta }),
      this.frame({ type: 'response.reasoning_text.delta', ...at, content_index: 0, delta }),
    ];
  }

  private closeText(status: 'completed' | 'incomplete'): string[] {
    const o = this.text;
    if (!o) return [];
    this.text = undefined;
    const at = { item_id: o.id, output_index: o.index };
    if (o.kind === 'reasoning') {
      const item = reasoningItem(o.id, o.text, status);
      this.output[o.index] = item;
      const summary = { type: 'summary_text' as const, text: o.text };
      const part = { type: 'reasoning_text' as const, text: o.text };
      return [
        this.frame({ type: 'response.reasoning_summary_text.done', ...at, summary_index: 0, text: o.text }),
        this.frame({ type: 'response.reasoning_summary_part.done', ...at, summary_index: 0, part: summary }),
        this.frame({ type: 'response.reasoning_text.done', ...at, content_index: 0, text: o.text }),
        this.frame({ type: 'response.content_part.done', ...at, content_index: 0, part }),
        this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
      ];
    }
    const part = { type: 'output_text' as const, text: o.text, annotations: [], logprobs: [] };
    const item: ResponsesOutputItem = { type: 'message', id: o.id, status, role: 'assistant', content: [part] };
    this.output[o.index] = item;
    return [
      this.frame({ type: 'response.output_text.done', ...at, content_index: 0, text: o.text, logprobs: [] }),
      this.frame({ type: 'response.content_part.done', ...at, content_index: 0, part }),
      this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
    ];
  }

  private openCall(toolIndex: number, callId: string, name: string): OpenCall {
    const index = this.output.push(undefined) - 1;
    const call: OpenCall = { index, id: responseIds.functionCall(this.requestId, toolIndex), toolIndex, callId, name, args: '', whole: false };
    this.calls.set(toolIndex, call);
    return call;
  }

  private addedFrame(c: OpenCall): string {
    return this.frame({ type: 'response.output_item.added', output_index: c.index, item: { type: 'function_call', id: c.id, call_id: c.callId, name: c.name, arguments: '', status: 'in_progress' } });
  }

  private argsDelta(c: OpenCall, delta: string): string[] {
    return delta === '' ? [] : [this.frame({ type: 'response.function_call_arguments.delta', item_id: c.id, output_index: c.index, delta })];
  }

  private closeCall(c: OpenCall, status: 'completed' | 'incomplete'): string[] {
    this.calls.delete(c.toolIndex);
    this.callsDone.add(c.toolIndex);
    const item: ResponsesOutputItem = { type: 'function_call', id: c.id, call_id: c.callId, name: c.name, arguments: c.args, status };
    this.output[c.index] = item;
    return [
      this.frame({ type: 'response.function_call_arguments.done', item_id: c.id, output_index: c.index, name: c.name, arguments: c.args }),
      this.frame({ type: 'response.output_item.done', output_index: c.index, item }),
    ];
  }

  /** Closes every open item in `output_index` order; `cut` marks the last item of the output `incomplete`. */
  private closeAll(cut = false): string[] {
    const last = this.output.length - 1;
    const status = (index: number) => (cut && index === last ? 'incomplete' : 'completed');
    const open = [...this.calls.values(), ...(this.text ? [this.text] : [])].sort((a, b) => a.index - b.index);
    return open.flatMap((o) => ('toolIndex' in o ? this.closeCall(o, status(o.index)) : this.closeText(status(o.index))));
  }

  part(part: StreamPart): string[] {
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta': {
        if (part.delta === '') return [];
        const kind = part.type === 'text-delta' ? 'message' : 'reasoning';
        const frames = this.text?.kind === kind ? [] : [...this.closeAll(), ...this.openText(kind)];
        frames.push(...this.textDelta(this.text!, part.delta));
        return frames;
      }
      case 'tool-call-delta': {
        const open = this.calls.get(part.index);
        if (open) {
          if (open.whole) return [];
          if (!open.name && part.name) open.name = part.name;
          open.args += part.argumentsDelta;
          return this.argsDelta(open, part.argumentsDelta);
        }
        if (this.callsDone.has(part.index)) return []; // a late piece of a closed call: nothing to add to
        // Engines send the call id on a call's first piece; `call_<index>` only if one does not.
        const frames = this.closeText('completed');
        const c = this.openCall(part.index, part.id ?? `call_${part.index}`, part.name ?? '');
        c.args = part.argumentsDelta;
        frames.push(this.addedFrame(c), ...this.argsDelta(c, part.argumentsDelta));
        return frames;
      }
      case 'tool-call': {
        const w = part.toolCall;
        const open = this.calls.get(part.index);
        if (open) {
          // The whole call after its pieces: its arguments are the ones the done events carry. The id was sent.
          if (!open.name) open.name = w.name;
          open.args = w.arguments;
          open.whole = true;
          return [];
        }
        if (this.callsDone.has(part.index)) return [];
        // Engines that emit whole calls without pieces: the arguments as one delta.
        const frames = this.closeText('completed');
        const c = this.openCall(part.index, w.id, w.name);
        c.args = w.arguments;
        c.whole = true;
        frames.push(this.addedFrame(c), ...this.argsDelta(c, w.arguments));
        return frames;
      }
      default:
        return [];
    }
  }

  finish(part: FinishPart, result: RouterResult): string[] {
    // Calls whose whole form never came as a part: the router result's call with the same id, if any.
    for (const c of this.calls.values()) {
      if (c.whole) continue;
      const w = result.toolCalls.find((t) => t.id === c.callId);
      if (w) c.args = w.arguments;
    }
    // An answer with no output at all still has its (empty) message, as the non-streamed answer does.
    const frames = this.output.length === 0 ? this.openText('message') : [];
    frames.push(...this.closeAll(isCut(part.finishReason)));
    const output = this.output.filter((o): o is ResponsesOutputItem => o !== undefined);
    const response = toResponseObject({ ...result, finishReason: part.finishReason }, { createdAt: this.options.createdAt, echo: this.options.echo, explain: this.options.explain, output });
    frames.push(this.frame({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response }));
    return frames;
  }

  error(error: LLMError, requestId: string): string[] {
    const body = errorBody(error, requestId).error;
    return [this.frame({ type: 'error', code: body.code, message: body.message, param: body.param, error: body })];
  }
}
