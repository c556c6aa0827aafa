import { LLMError, type ReasoningPart, type RouterResult, type StreamPart, type TokenLogprob } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import type { OpenAIResponseStreamEvent, ResponsesOutputItem } from '../schemas/openai-responses.js';
import { pairFinalToolCalls, quoteArgs, type SeenToolCall } from '../streaming/final-tool-calls.js';
import { JsonEnd, sameJson } from '../streaming/json-end.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { carriesTextOrCall, type FinishPart, type StreamEncoder } from '../streaming/sse-response.js';
import { encryptReasoning } from './reasoning-encrypted-content.js';
import { isCut, pendingResponse, reasoningItem, responseIds, toResponseObject, type ResponseEcho } from './response-object.js';
import { toOutputTextLogprobs, toTextEventLogprobs } from './responses-logprobs.js';

type Event = OpenAIResponseStreamEvent;
/** An event before its number is given (`sequence_number` is added as it is framed). */
type Unnumbered = Event extends infer E ? (E extends Event ? Omit<E, 'sequence_number'> : never) : never;

/**
 * What a text item holds: the answer's text (a message's `output_text` part), its reasoning, or the model's refusal
 * (a message of its own, with a `refusal` part, as the non-streamed answer has it).
 */
type TextKind = 'message' | 'reasoning' | 'refusal';

/** The open message or reasoning item (at most one at a time). */
interface OpenText {
  kind: TextKind;
  index: number;
  id: string;
  text: string;
  /**
   * The constant bytes of this item's delta frames (`frame()` of the delta event, key order included), for
   * each event a text delta becomes: the frame up to `"delta":` and the bytes between the delta and the
   * sequence number. Only the delta and the number are serialized per delta.
   */
  deltaHeads: string[];
  deltaTail: string;
  /** A message's token log probabilities so far (when asked for): its done events and part carry them. */
  logprobs?: TokenLogprob[];
}

/** `event: <type>\ndata: {"type":"<type>","item_id":...,"output_index":...,"<index key>":0,"delta":`. */
function deltaHead(type: string, id: string, index: number, indexKey: 'content_index' | 'summary_index'): string {
  return `event: ${type}\ndata: {"type":"${type}","item_id":${JSON.stringify(id)},"output_index":${index},"${indexKey}":0,"delta":`;
}

/** A function-call item: open, done, or waiting (buffered, not added yet). */
interface OpenCall extends SeenToolCall {
  /** Its `output_index`; -1 while it waits. */
  index: number;
  id: string;
  /** The start of its `response.function_call_arguments.delta` frames (`argsDelta`), made on its first delta (it is added by then). */
  deltaHead: string | undefined;
  toolIndex: number;
  /** Sent on `output_item.added`; never changed after. */
  callId: string;
  name: string;
  args: string;
  /** The whole call (a `tool-call` part) came: its arguments are final, later pieces are ignored. */
  whole: boolean;
  /** Whether a whole call's arguments are whole JSON (found when first asked). */
  json?: boolean;
  /** Whether the pieces so far are whole JSON (fed with every piece). */
  end: JsonEnd;
}

/** `text` is whole JSON. */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** What waits for the open calls to finish: a call, or text or reasoning (consecutive pieces joined). */
type Pending = { kind: 'call'; call: OpenCall } | { kind: TextKind; text: string; logprobs?: TokenLogprob[] };

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
 * their argument pieces, so one function-call item per tool index stays open. Text or reasoning that arrives
 * while an open call's arguments are unfinished (not whole JSON, even in a whole `tool-call` part: they were
 * cut, or are broken, which only the finish tells) waits, buffered, and so does every call that starts after
 * it, in arrival order; when the open calls are finished (or at the finish) they are closed and what waited
 * is sent in that order (text in one delta, a call's arguments so far in one delta). Calls are closed when
 * text or reasoning starts or at the finish, with the arguments of the whole call (the `tool-call` part, else
 * the router result's call), which the done events carry even where the deltas said otherwise. At the finish
 * a call of the router result that never came as a part is added whole.
 * A call id, once sent, is never changed. A call already done cannot be put right: a piece that would change
 * its arguments, or final arguments with another JSON value, end the stream with the `error` event, never
 * silently. On a length or content-filter finish the item being produced when the answer was cut is
 * `incomplete`: every call whose final arguments are not whole JSON (the text that waited behind it is sent
 * after it, `completed`, as the non-streamed answer has it), else the last item. A stream that breaks after
 * its first byte ends with the `error` event.
 *
 * When the request asked for log probabilities (`options.logprobs`), each `response.output_text.delta` carries
 * its tokens' `logprobs` (the router sends a text delta and then its `logprobs` part, so the delta waits for the
 * next part; text that waits behind a call keeps its tokens with it), and the message's `output_text.done`,
 * content part and item carry all of them. Other streams send every delta at once, byte for byte as before.
 */
export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private requestId = '';
  /** The output items by `output_index`; `undefined` while the item is open. */
  private readonly output: Array<ResponsesOutputItem | undefined> = [];
  private text: OpenText | undefined;
  /** Open function-call items by tool index. */
  private readonly calls = new Map<number, OpenCall>();
  /** Done function-call items by tool index: later pieces have nothing to add to. */
  private readonly callsDone = new Map<number, OpenCall>();
  /** Calls that wait (not added yet) by tool index; each is also in `pending`. */
  private readonly queued = new Map<number, OpenCall>();
  /** What waits, in arrival order; empty unless an open call is unfinished (`advance` keeps it so). */
  private readonly pending: Pending[] = [];
  private messages = 0;
  private reasonings = 0;
  /** Set by a length or content-filter finish: a call whose arguments are not whole JSON is closed `incomplete`. */
  private cutting = false;
  /** A call was closed `incomplete` for that: the last item is not marked as well. */
  private callCut = false;

  /** With `logprobs`: a text delta waiting for the `logprobs` part after it. */
  private held: string | undefined;
  /**
   * Frames of a held delta, already numbered, whose part or finish then failed: `error()` sends them before the
   * error event, so the text reaches the client as it does on an ordinary stream. Empty otherwise.
   */
  private unsent: string[] = [];

  /**
   * With `encryptedReasoning`: the reasoning blocks so far (a signature closes a block, redacted data is one), the
   * open block, and how many a reasoning item has taken. A reasoning item, when done, carries the blocks closed
   * since the one before it as `encrypted_content` (when one is signed). A signed block with no text (redacted
   * thinking, a thinking block whose text is left out) opens a reasoning item where it came when none is open, so
   * the items come in the non-streamed answer's order (reasoning before the message it led to).
   */
  private provider = '';
  private readonly blocks: ReasoningPart[] = [];
  private openBlock: ReasoningPart | undefined;
  private blocksTaken = 0;

  /**
   * `logprobs`: the request asked for log probabilities; `encryptedReasoning`: for the provider's signed reasoning
   * blocks (`include: ["reasoning.encrypted_content"]`).
   */
  constructor(private readonly options: { createdAt: number; echo: ResponseEcho; explain: boolean; logprobs?: boolean; encryptedReasoning?: boolean }) {}

  /**
   * `event: <type>` and the event with its `sequence_number` last, as `JSON.stringify({ ...e, sequence_number })`
   * writes it (the number appended to the serialized event: a spread that adds a key costs about a
   * microsecond on V8).
   */
  private frame(e: Unnumbered): string {
    const json = JSON.stringify(e);
    return `event: ${e.type}\ndata: ${json.slice(0, -1)},"sequence_number":${this.seq++}}\n\n`;
  }

  start(route: RoutePart): string[] {
    this.requestId = route.requestId;
    this.provider = route.provider;
    // Both events carry the same response: serialized once.
    const response = JSON.stringify(pendingResponse(route.requestId, route.deployment, this.options.createdAt, this.options.echo));
    const lifecycle = (type: 'response.created' | 'response.in_progress') => `event: ${type}\ndata: {"type":"${type}","response":${response},"sequence_number":${this.seq++}}\n\n`;
    return [lifecycle('response.created'), lifecycle('response.in_progress')];
  }

  /** `base`, then `base_1`, `base_2`... for later items of the same kind. */
  private static nth(base: string, n: number): string {
    return n === 0 ? base : `${base}_${n}`;
  }

  private openText(kind: TextKind): string[] {
    const index = this.output.push(undefined) - 1;
    if (kind === 'refusal') {
      // OpenAI's refusal events: `response.refusal.delta` and `.done` on a `refusal` content part.
      const id = ResponsesStreamEncoder.nth(responseIds.message(this.requestId), this.messages++);
      this.text = { kind, index, id, text: '', deltaHeads: [deltaHead('response.refusal.delta', id, index, 'content_index')], deltaTail: ',"sequence_number":' };
      return [
        this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } }),
        this.frame({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'refusal', refusal: '' } }),
      ];
    }
    if (kind === 'message') {
      const id = ResponsesStreamEncoder.nth(responseIds.message(this.requestId), this.messages++);
      this.text = { kind, index, id, text: '', deltaHeads: [deltaHead('response.output_text.delta', id, index, 'content_index')], deltaTail: ',"logprobs":[],"sequence_number":' };
      return [
        this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } }),
        this.frame({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
      ];
    }
    const id = ResponsesStreamEncoder.nth(responseIds.reasoning(this.requestId), this.reasonings++);
    const deltaHeads = [deltaHead('response.reasoning_summary_text.delta', id, index, 'summary_index'), deltaHead('response.reasoning_text.delta', id, index, 'content_index')];
    this.text = { kind, index, id, text: '', deltaHeads, deltaTail: ',"sequence_number":' };
    return [
      this.frame({ type: 'response.output_item.added', output_index: index, item: { type: 'reasoning', id, summary: [], content: [], status: 'in_progress' } }),
      this.frame({ type: 'response.reasoning_summary_part.added', item_id: id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } }),
      this.frame({ type: 'response.content_part.added', item_id: id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text: '' } }),
    ];
  }

  /**
   * The delta frames of the open item (the `response.output_text.delta` event, or the two reasoning ones);
   * `tokens`: the delta's log probabilities (a message's), which its event carries.
   */
  private textDelta(o: OpenText, delta: string, tokens?: readonly TokenLogprob[]): string[] {
    o.text += delta;
    const json = JSON.stringify(delta);
    const heads = o.deltaHeads;
    if (tokens) {
      for (const t of tokens) (o.logprobs ??= []).push(t);
      return [`${heads[0]!}${json},"logprobs":${JSON.stringify(toTextEventLogprobs(tokens))},"sequence_number":${this.seq++}}\n\n`];
    }
    if (heads.length === 1) return [`${heads[0]!}${json}${o.deltaTail}${this.seq++}}\n\n`];
    return heads.map((head) => `${head}${json}${o.deltaTail}${this.seq++}}\n\n`);
  }

  private closeText(status: 'completed' | 'incomplete'): string[] {
    const o = this.text;
    if (!o) return [];
    this.text = undefined;
    const id = o.id;
    const index = o.index;
    if (o.kind === 'reasoning') {
      const item = reasoningItem(o.id, o.text, status, this.options.encryptedReasoning === true ? this.takeBlocks() : undefined);
      this.output[o.index] = item;
      const summary = { type: 'summary_text' as const, text: o.text };
      const part = { type: 'reasoning_text' as const, text: o.text };
      return [
        this.frame({ type: 'response.reasoning_summary_text.done', item_id: id, output_index: index, summary_index: 0, text: o.text }),
        this.frame({ type: 'response.reasoning_summary_part.done', item_id: id, output_index: index, summary_index: 0, part: summary }),
        this.frame({ type: 'response.reasoning_text.done', item_id: id, output_index: index, content_index: 0, text: o.text }),
        this.frame({ type: 'response.content_part.done', item_id: id, output_index: index, content_index: 0, part }),
        this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
      ];
    }
    if (o.kind === 'refusal') {
      const part = { type: 'refusal' as const, refusal: o.text };
      const item: ResponsesOutputItem = { type: 'message', id: o.id, status, role: 'assistant', content: [part] };
      this.output[o.index] = item;
      return [
        this.frame({ type: 'response.refusal.done', item_id: id, output_index: index, content_index: 0, refusal: o.text }),
        this.frame({ type: 'response.content_part.done', item_id: id, output_index: index, content_index: 0, part }),
        this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
      ];
    }
    const part = { type: 'output_text' as const, text: o.text, annotations: [], logprobs: o.logprobs ? toOutputTextLogprobs(o.logprobs) : [] };
    const item: ResponsesOutputItem = { type: 'message', id: o.id, status, role: 'assistant', content: [part] };
    this.output[o.index] = item;
    return [
      this.frame({ type: 'response.output_text.done', item_id: id, output_index: index, content_index: 0, text: o.text, logprobs: o.logprobs ? toTextEventLogprobs(o.logprobs) : [] }),
      this.frame({ type: 'response.content_part.done', item_id: id, output_index: index, content_index: 0, part }),
      this.frame({ type: 'response.output_item.done', output_index: o.index, item }),
    ];
  }

  /** A call first seen (not added to the output yet). */
  private newCall(toolIndex: number, callId: string, resultId: string, name: string, args: string, whole: boolean): OpenCall {
    const c: OpenCall = { index: -1, id: responseIds.functionCall(this.requestId, toolIndex), toolIndex, callId, resultId, name, args, whole, end: new JsonEnd(), deltaHead: undefined };
    if (!whole) c.end.feed(args);
    return c;
  }

  /** Adds the call's item (open) with its arguments so far as one delta. */
  private addCall(c: OpenCall): string[] {
    c.index = this.output.push(undefined) - 1;
    this.calls.set(c.toolIndex, c);
    return [this.addedFrame(c), ...this.argsDelta(c, c.args)];
  }

  /**
   * Some open call's arguments are not finished (not whole JSON): text has to wait for it. A whole call's
   * arguments that are not whole JSON were cut (or are broken): whether its item is `completed` or
   * `incomplete` is known at the finish, so it stays open, and text waits, until then.
   */
  private blocked(): boolean {
    for (const c of this.calls.values()) if (c.whole ? !(c.json ??= isJson(c.args)) : !c.end.whole(c.args)) return true;
    return false;
  }

  private sendPending(p: Pending): string[] {
    if (p.kind === 'call') {
      this.queued.delete(p.call.toolIndex);
      return [...this.closeText('completed'), ...this.addCall(p.call)];
    }
    const frames = [...this.closeAll(), ...this.openText(p.kind)];
    // A reasoning item opened by a signed block with no text has no delta yet.
    if (p.text !== '' || p.logprobs !== undefined) frames.push(...this.textDelta(this.text!, p.text, p.logprobs));
    return frames;
  }

  /** Sends what waits while nothing holds it back (`all`: everything, at the finish). */
  private advance(all = false): string[] {
    const frames: string[] = [];
    while (this.pending.length > 0 && (all || !this.blocked())) frames.push(...this.sendPending(this.pending.shift()!));
    return frames;
  }

  /** A call first seen: added at once, unless something waits (then it waits after it). */
  private admit(c: OpenCall): string[] {
    if (this.pending.length > 0) {
      this.queued.set(c.toolIndex, c);
      this.pending.push({ kind: 'call', call: c });
      return [];
    }
    return [...this.closeText('completed'), ...this.addCall(c)];
  }

  private unfixable(c: OpenCall, what: string): LLMError {
    return new LLMError({
      code: 'invalid_response',
      message: `Tool call ${c.callId} (${c.name || `index ${c.toolIndex}`}) ${what}; its output item was already done, so its arguments would be wrong`,
    });
  }

  private piece(part: Extract<StreamPart, { type: 'tool-call-delta' }>): string[] {
    const c = this.calls.get(part.index) ?? this.queued.get(part.index);
    if (c) {
      if (c.whole) return [];
      if (part.id) c.resultId = part.id;
      if (!c.name && part.name) c.name = part.name;
      c.args += part.argumentsDelta;
      c.end.feed(part.argumentsDelta);
      if (c.index < 0) return [];
      const frames = this.argsDelta(c, part.argumentsDelta);
      if (this.pending.length > 0) frames.push(...this.advance());
      return frames;
    }
    const done = this.callsDone.get(part.index);
    if (done) {
      // A late piece of a done call: whitespace has nothing to add; anything else would change its arguments.
      if (done.whole || part.argumentsDelta.trim() === '') return [];
      throw this.unfixable(done, 'got more arguments after its item was done');
    }
    // Engines send the call id on a call's first piece; `call_<index>` only if one does not.
    return this.admit(this.newCall(part.index, part.id ?? `call_${part.index}`, part.id ?? '', part.name ?? '', part.argumentsDelta, false));
  }

  /** Final arguments for a done call: the same JSON value, or an error (its done event went out). */
  private checkDone(c: OpenCall, args: string): void {
    if (args !== c.args && !sameJson(args, c.args)) throw this.unfixable(c, `has the arguments ${quoteArgs(args)} but ${quoteArgs(c.args)} were sent`);
  }

  private wholeCall(part: Extract<StreamPart, { type: 'tool-call' }>): string[] {
    const w = part.toolCall;
    const c = this.calls.get(part.index) ?? this.queued.get(part.index);
    if (c) {
      // The whole call after its pieces: its arguments are the ones the done events carry. A sent id stays.
      if (c.whole) return [];
      if (c.index < 0) c.callId = w.id;
      if (!c.name) c.name = w.name;
      // The pieces' arguments, already found whole JSON, need no second parse.
      if (w.arguments === c.args && c.end.whole(c.args)) c.json = true;
      c.args = w.arguments;
      c.whole = true;
      c.resultId = w.id;
      return c.index >= 0 && this.pending.length > 0 ? this.advance() : [];
    }
    const done = this.callsDone.get(part.index);
    if (done) {
      if (!done.whole) this.checkDone(done, w.arguments);
      done.whole = true;
      done.resultId = w.id;
      return [];
    }
    // Engines that emit whole calls without pieces: the arguments as one delta.
    return this.admit(this.newCall(part.index, w.id, w.id, w.name, w.arguments, true));
  }

  private addedFrame(c: OpenCall): string {
    return this.frame({ type: 'response.output_item.added', output_index: c.index, item: { type: 'function_call', id: c.id, call_id: c.callId, name: c.name, arguments: '', status: 'in_progress' } });
  }

  private argsDelta(c: OpenCall, delta: string): string[] {
    if (delta === '') return [];
    // `frame({ type: 'response.function_call_arguments.delta', item_id, output_index, delta })` byte for byte, without
    // the event object made and serialized per piece (a call's arguments come in many pieces): the call's head once.
    c.deltaHead ??= `event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","item_id":${JSON.stringify(c.id)},"output_index":${c.index},"delta":`;
    return [`${c.deltaHead}${JSON.stringify(delta)},"sequence_number":${this.seq++}}\n\n`];
  }

  /** A cut finish cut this call: its final arguments are not whole JSON (asked only at a cut finish). */
  private static isCutCall(c: OpenCall): boolean {
    return !isJson(c.args);
  }

  /** `status`, or `incomplete` for a call a cut finish cut (see `cutting`). */
  private closeCall(c: OpenCall, status: 'completed' | 'incomplete'): string[] {
    if (this.cutting && ResponsesStreamEncoder.isCutCall(c)) {
      status = 'incomplete';
      this.callCut = true;
    }
    this.calls.delete(c.toolIndex);
    this.callsDone.set(c.toolIndex, c);
    const item: ResponsesOutputItem = { type: 'function_call', id: c.id, call_id: c.callId, name: c.name, arguments: c.args, status };
    this.output[c.index] = item;
    return [
      this.frame({ type: 'response.function_call_arguments.done', item_id: c.id, output_index: c.index, name: c.name, arguments: c.args }),
      this.frame({ type: 'response.output_item.done', output_index: c.index, item }),
    ];
  }

  /**
   * Closes every open item in `output_index` order; `cut` marks the last item of the output `incomplete`,
   * unless a call was cut (`closeCall` marks it instead).
   */
  private closeAll(cut = false): string[] {
    let last = this.output.length - 1;
    if (cut && (this.callCut || [...this.calls.values()].some(ResponsesStreamEncoder.isCutCall))) last = -1;
    const status = (index: number) => (cut && index === last ? 'incomplete' : 'completed');
    if (this.calls.size === 0) return this.text ? this.closeText(status(this.text.index)) : [];
    const open = [...this.calls.values(), ...(this.text ? [this.text] : [])].sort((a, b) => a.index - b.index);
    return open.flatMap((o) => ('toolIndex' in o ? this.closeCall(o, status(o.index)) : this.closeText(status(o.index))));
  }

  /** Text, reasoning or refusal (`tokens`: a message delta's log probabilities, when asked for). */
  private textPart(kind: TextKind, delta: string, tokens?: readonly TokenLogprob[]): string[] {
    if (this.text?.kind === kind) return this.textDelta(this.text, delta, tokens);
    if (this.pending.length > 0 || this.blocked()) {
      // An open call is unfinished: the text waits for it (joined with the text waiting last, if any).
      const last = this.pending.at(-1);
      if (last?.kind === kind) last.text += delta;
      else this.pending.push({ kind, text: delta });
      if (tokens) {
        const waiting = this.pending.at(-1) as Extract<Pending, { text: string }>;
        for (const t of tokens) (waiting.logprobs ??= []).push(t);
      }
      return [];
    }
    const frames = [...this.closeAll(), ...this.openText(kind)];
    // A reasoning item opened by a signed block with no text has no delta yet.
    if (delta !== '' || tokens !== undefined) frames.push(...this.textDelta(this.text!, delta, tokens));
    return frames;
  }

  /** `part` when log probabilities were asked for: a text delta waits for the `logprobs` part after it. */
  private withLogprobs(part: StreamPart): string[] {
    if (part.type === 'logprobs') {
      if (!Array.isArray(part.logprobs)) return this.flushHeld();
      const text = this.held;
      this.held = undefined;
      // Tokens with no text of their own: an empty delta that carries them (as an empty chat content chunk does).
      return this.textPart('message', text ?? '', part.logprobs);
    }
    const frames = this.flushHeld();
    // A refusal has no log probabilities of its own to wait for.
    if (part.type === 'text-delta' && part.delta !== '' && part.refusal !== true) this.held = part.delta;
    else {
      try {
        frames.push(...this.content(part));
      } catch (e) {
        this.unsent = frames;
        throw e;
      }
    }
    return frames;
  }

  /** The held text delta on its own (no `logprobs` part came for it), or nothing. */
  private flushHeld(): string[] {
    const text = this.held;
    if (text === undefined) return [];
    this.held = undefined;
    return this.textPart('message', text);
  }

  /** Folds a reasoning part into `blocks` (as core's stream accumulator does); true when it closed a signed or redacted block. */
  private noteBlock(part: Extract<StreamPart, { type: 'reasoning-delta' }>): boolean {
    if (part.redactedData !== undefined) {
      if (this.openBlock) this.blocks.push(this.openBlock);
      this.openBlock = undefined;
      this.blocks.push({ type: 'reasoning', text: '', redactedData: part.redactedData });
      return true;
    }
    if (part.delta !== '') (this.openBlock ??= { type: 'reasoning', text: '' }).text += part.delta;
    if (part.signature !== undefined && part.signature !== '') {
      this.blocks.push({ ...(this.openBlock ?? { type: 'reasoning', text: '' }), signature: part.signature });
      this.openBlock = undefined;
      return true;
    }
    return false;
  }

  /** The `encrypted_content` of the blocks closed since the last reasoning item took its own (none signed: undefined). */
  private takeBlocks(): string | undefined {
    const parts = this.blocks.slice(this.blocksTaken);
    this.blocksTaken = this.blocks.length;
    return encryptReasoning(this.provider, parts);
  }

  /**
   * Text, reasoning with text and tool calls (an empty delta sends nothing; a redacted reasoning block sends no text,
   * at most an empty reasoning item to carry it).
   */
  carriesContent(part: StreamPart): boolean {
    return carriesTextOrCall(part);
  }

  part(part: StreamPart): string[] {
    return this.options.logprobs === true ? this.withLogprobs(part) : this.content(part);
  }

  private content(part: StreamPart): string[] {
    switch (part.type) {
      case 'text-delta':
      case 'reasoning-delta': {
        if (part.delta === '') {
          // A signed block with no text (redacted thinking, or its text left out): its item opens now, not at the
          // finish after the message (an open reasoning item takes it as it closes).
          if (part.type === 'reasoning-delta' && this.options.encryptedReasoning === true && this.noteBlock(part) && this.text?.kind !== 'reasoning') return this.textPart('reasoning', '');
          return [];
        }
        if (part.type === 'reasoning-delta' && this.options.encryptedReasoning === true) this.noteBlock(part);
        return this.textPart(part.type === 'reasoning-delta' ? 'reasoning' : part.refusal === true ? 'refusal' : 'message', part.delta);
      }
      case 'tool-call-delta':
        return this.piece(part);
      case 'tool-call':
        return this.wholeCall(part);
      default:
        return [];
    }
  }

  finish(part: FinishPart, result: RouterResult): string[] {
    if (this.held === undefined) return this.finishFrames(part, result);
    const held = this.flushHeld();
    try {
      return [...held, ...this.finishFrames(part, result)];
    } catch (e) {
      this.unsent = held;
      throw e;
    }
  }

  /** `finish` after the held delta (if any) went out. */
  private finishFrames(part: FinishPart, result: RouterResult): string[] {
    // The router result's calls (the non-streamed answer's): the final arguments of calls whose whole part
    // never came (a done call must already have them), and the calls that never came as parts, added last.
    const { paired, unseen } = pairFinalToolCalls([...this.callsDone.values(), ...this.calls.values(), ...this.queued.values()], result.toolCalls);
    for (const [c, w] of paired) {
      if (c.whole) continue;
      if (this.callsDone.get(c.toolIndex) === c) this.checkDone(c, w.arguments);
      else c.args = w.arguments;
    }
    let toolIndex = Math.max(-1, ...this.calls.keys(), ...this.callsDone.keys(), ...this.queued.keys());
    for (const w of unseen) {
      const c = this.newCall(++toolIndex, w.id, w.id, w.name, w.arguments, true);
      this.queued.set(c.toolIndex, c);
      this.pending.push({ kind: 'call', call: c });
    }
    // Everything that waits goes out now (on a cut, a call whose arguments are not whole JSON is closed
    // `incomplete` even where text that waited behind it closes it). An answer with no output at all still
    // has its (empty) message, as the non-streamed answer does.
    const cut = isCut(part.finishReason);
    this.cutting = cut;
    const frames = this.advance(true);
    if (this.output.length === 0) frames.push(...this.openText('message'));
    frames.push(...this.closeAll(cut));
    const output = this.output.filter((o): o is ResponsesOutputItem => o !== undefined);
    const response = toResponseObject({ ...result, finishReason: part.finishReason }, { createdAt: this.options.createdAt, echo: this.options.echo, explain: this.options.explain, output });
    frames.push(this.frame({ type: response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response }));
    return frames;
  }

  error(error: LLMError, requestId: string): string[] {
    const held = [...this.unsent, ...this.flushHeld()];
    this.unsent = [];
    const body = errorBody(error, requestId).error;
    return [...held, this.frame({ type: 'error', code: body.code, message: body.message, param: body.param, error: body })];
  }
}
