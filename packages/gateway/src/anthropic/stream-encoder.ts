import { LLMError, type RouterResult, type StreamPart, type Usage } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { AnthropicStreamEvent } from '../schemas/anthropic-messages.js';
import type { RoutePart } from '../streaming/open-stream.js';
import type { HeadEncoder } from '../streaming/sse-frames.js';
import { feedPiece, finalArgsSuffix, takeWholeCall, type BufferedToolCall } from '../streaming/buffered-tool-call.js';
import { pairFinalToolCalls, quoteArgs } from '../streaming/final-tool-calls.js';
import { JsonEnd } from '../streaming/json-end.js';
import { messageId, toAnthropicStop } from './message-response.js';
import { toAnthropicDeltaUsage, toAnthropicUsage } from './usage.js';

type EventWithExtras = AnthropicStreamEvent | (AnthropicStreamEvent & Record<string, unknown>);

function event(e: EventWithExtras): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Characters `JSON.stringify` writes escaped in a string: quote, backslash, controls, and (when lone) surrogates. */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `event({ type: 'content_block_delta', index, delta: { type, [field]: value } })`, byte for byte, without the two
 * objects made and serialized per delta (one per text chunk, thinking chunk or arguments piece): only the value is
 * serialized, and text that JSON writes as it is (most deltas) is put between the quotes as it is.
 */
function blockDelta(index: number, type: 'text_delta' | 'input_json_delta' | 'thinking_delta' | 'signature_delta', field: 'text' | 'partial_json' | 'thinking' | 'signature', value: string): string {
  const json = ESCAPED.test(value) ? JSON.stringify(value) : `"${value}"`;
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":{"type":"${type}","${field}":${json}}}\n\n`;
}

/** The `ping` event, as Anthropic writes it (also what `event({ type: 'ping' })` gives, but for the space). */
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';

/** A tool call of the stream, by tool index. */
/** `id` is sent on `content_block_start`, `sent` in `input_json_delta`s. */
interface ToolCallState extends BufferedToolCall {
  toolIndex: number;
}

/**
 * What waits for the open tool block to close: a call, or text or reasoning that arrived while the call was
 * unfinished (a thinking block's text and, once it came, its signature; a redacted block whole).
 */
type Pending =
  | { kind: 'call'; call: ToolCallState }
  | { kind: 'text'; text: string }
  | { kind: 'thinking'; text: string; signature?: string }
  | { kind: 'redacted'; data: string };

type ReasoningDelta = Extract<StreamPart, { type: 'reasoning-delta' }>;

/**
 * Anthropic Messages streaming events in Anthropic's order: `message_start`, `ping`, per content block
 * `content_block_start` / `content_block_delta`* / `content_block_stop`, then `message_delta` (stop reason,
 * usage) and `message_stop`. A stream that breaks after its first byte ends with `event: error`.
 *
 * `message_start` carries the prompt's usage when the parts before the first content reported it (an Anthropic
 * upstream's own message_start: input, cache reads and writes, output 0; a router cache hit's replay; an
 * escalated cascade's weak step and what its strong step reported), counted as the final usage is (see
 * usage.ts); else zeros, as before. `usage` parts are the answer's usage so far (see `opening`). So `start` only takes the route: `message_start` and `ping` go out once the parts read while opening the
 * stream (up to the first content part or the finish) went through `part`: `afterHead`, which the gateway calls
 * in the stream's first write, with the start and those parts, whether or not one of them sent anything (an
 * answer without content: before its finish waits for the call to settle). Without `afterHead`, they go out with
 * the frames of the first part that sends anything, or the finish, or the error event.
 *
 * Reasoning becomes `thinking` blocks (`thinking_delta` pieces; a signed block's signature as a
 * `signature_delta` right before its `content_block_stop`) and `redacted_thinking` blocks (sent whole), in the
 * order the parts came, so a client can give them back unchanged on its next turn.
 *
 * Content blocks are strictly one after another (clients drop a block's state at its stop), while parallel
 * tool calls may interleave their argument pieces (OpenAI's chat wire keys them by index), and text may come
 * between the pieces of a call. So one tool block is open at a time and streams live; while its arguments are
 * not yet a whole JSON value (and its whole `tool-call` part has not come), what else arrives waits, buffered,
 * in arrival order: a call that starts (calls that start between two pieces of text, in index order) and text
 * (consecutive pieces joined). When the open call becomes whole, it is closed and what waits is sent in order:
 * text as one `text_delta`, a call with its buffered arguments in one `input_json_delta`; a call that is still
 * unfinished becomes the open block and the rest waits again. An open call that is whole stays open (its late
 * whitespace is harmless) until a new call or text starts, or the finish. In the common sequential case
 * nothing waits: every call and all text streams live. Buffering holds nothing beyond the answer's own output
 * (which the router also accumulates for its result) and costs O(piece) per piece.
 *
 * At the finish the calls are reconciled with the router result's `toolCalls` (the non-streamed answer's
 * calls, the ones the ledger counts): a call that never came as a part is sent whole, after the rest; a call
 * whose block is not sent yet opens with its final arguments; an open block whose streamed arguments are a
 * prefix of the final ones gets the missing suffix (likewise when a whole `tool-call` part comes). Arguments
 * with the same JSON value (other whitespace) need nothing. A sent block cannot be taken back, so a call
 * whose final arguments no longer fit what its block sent (a closed block, or text that is not a prefix), or
 * a non-whitespace piece for a closed block, ends the stream with the error event, never silently: a client
 * must not run a tool with arguments the answer does not have.
 */
export class AnthropicStreamEncoder implements HeadEncoder {
  private blockIndex = -1;
  private open: { kind: 'text' } | { kind: 'thinking'; signed: boolean } | { kind: 'redacted' } | { kind: 'tool'; call: ToolCallState } | undefined;
  private readonly calls = new Map<number, ToolCallState>();
  /**
   * What waits for the open tool block, in the order it will be sent. Empty unless the open block is a tool
   * call whose arguments are unfinished (`advance` keeps it so).
   */
  private readonly pending: Pending[] = [];

  /** The route, until `message_start` has gone out (then undefined). */
  private route: RoutePart | undefined;
  /** The last `usage` part before `message_start` went out: the prompt's usage, for it. */
  private promptUsage: Usage | undefined;

  constructor(private readonly options: { explain: boolean }) {}

  /** Nothing yet: `message_start` waits for the parts before the first content (see the class comment). */
  start(route: RoutePart): string[] {
    this.route = route;
    return [];
  }

  /**
   * `message_start` and `ping`, once (nothing before `start` or after they went out). Its usage is the prompt's
   * (output 0), from the last `usage` part, which is the answer's so far: the gateway (`SseFrames`) already
   * made a router cache hit's cache counts 0 and added an escalated cascade's weak step, as `answerUsage` does
   * for the finish.
   */
  private opening(): string[] {
    const route = this.route;
    if (!route) return [];
    this.route = undefined;
    const prompt = this.promptUsage;
    const usage = prompt ? toAnthropicUsage({ ...prompt, outputTokens: 0 }) : { input_tokens: 0, output_tokens: 0 };
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
          usage,
        },
      }),
      event({ type: 'ping' }),
    ];
  }

  private close(): string[] {
    if (!this.open) return [];
    if (this.open.kind === 'tool') this.open.call.state = 'closed';
    this.open = undefined;
    return [event({ type: 'content_block_stop', index: this.blockIndex })];
  }

  private textDelta(text: string): string {
    return blockDelta(this.blockIndex, 'text_delta', 'text', text);
  }

  /** Opens a text block (nothing else is open) with `text`. */
  private openText(text: string): string[] {
    this.blockIndex++;
    this.open = { kind: 'text' };
    return [event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'text', text: '' } }), this.textDelta(text)];
  }

  private argsDelta(c: ToolCallState, json: string): string[] {
    if (json === '') return [];
    c.sent += json;
    return [blockDelta(this.blockIndex, 'input_json_delta', 'partial_json', json)];
  }

  /** Opens the block of `c` (nothing else is open), with the arguments it has so far. */
  private openCall(c: ToolCallState): string[] {
    this.blockIndex++;
    this.open = { kind: 'tool', call: c };
    c.state = 'open';
    const start = event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
    return [start, ...this.argsDelta(c, c.args)];
  }

  private openPending(p: Pending): string[] {
    switch (p.kind) {
      case 'call':
        return this.openCall(p.call);
      case 'text':
        return this.openText(p.text);
      case 'thinking':
        return this.openThinking(p.text, p.signature);
      case 'redacted':
        return this.openRedacted(p.data);
    }
  }

  /**
   * Opens a thinking block (nothing else is open) with `text`; a `signature` ends it with a `signature_delta`
   * (sent just before `content_block_stop`, as Anthropic does), after which reasoning opens a new block.
   */
  private openThinking(text: string, signature: string | undefined): string[] {
    this.blockIndex++;
    this.open = { kind: 'thinking', signed: false };
    const frames = [event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'thinking', thinking: '', signature: '' } })];
    if (text !== '') frames.push(this.thinkingDelta(text));
    if (signature !== undefined) frames.push(this.signatureDelta(signature));
    return frames;
  }

  private thinkingDelta(thinking: string): string {
    return blockDelta(this.blockIndex, 'thinking_delta', 'thinking', thinking);
  }

  private signatureDelta(signature: string): string {
    if (this.open?.kind === 'thinking') this.open.signed = true;
    return blockDelta(this.blockIndex, 'signature_delta', 'signature', signature);
  }

  /** Opens a `redacted_thinking` block (nothing else is open): its data comes whole with the start. */
  private openRedacted(data: string): string[] {
    this.blockIndex++;
    this.open = { kind: 'redacted' };
    return [event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'redacted_thinking', data } })];
  }

  /**
   * Reasoning: text joins the open, unsigned thinking block, else opens one; a signature ends the block; a
   * redacted block is sent whole. While an unfinished tool block is open it waits, like text.
   */
  private reasoning(part: ReasoningDelta): string[] {
    const signature = part.signature !== undefined && part.signature !== '' ? part.signature : undefined;
    if (part.redactedData !== undefined) {
      if (this.pending.length > 0 || this.blocked()) {
        this.pending.push({ kind: 'redacted', data: part.redactedData });
        return [];
      }
      return [...this.close(), ...this.openRedacted(part.redactedData), ...this.close()];
    }
    if (part.delta === '' && signature === undefined) return [];
    if (this.open?.kind === 'thinking' && !this.open.signed) {
      const frames = part.delta === '' ? [] : [this.thinkingDelta(part.delta)];
      return signature === undefined ? frames : [...frames, this.signatureDelta(signature), ...this.close()];
    }
    if (this.pending.length > 0 || this.blocked()) {
      const last = this.pending.at(-1);
      if (last?.kind === 'thinking' && last.signature === undefined) last.text += part.delta;
      else this.pending.push({ kind: 'thinking', text: part.delta });
      if (signature !== undefined) (this.pending.at(-1) as Extract<Pending, { kind: 'thinking' }>).signature = signature;
      return [];
    }
    const frames = [...this.close(), ...this.openThinking(part.delta, signature)];
    return signature === undefined ? frames : [...frames, ...this.close()];
  }

  /** The call's arguments are final: its whole part came, or its pieces are whole JSON. */
  private static finished(c: ToolCallState): boolean {
    return c.whole || c.end.whole(c.args);
  }

  /** An open tool block whose arguments are not finished: what arrives now has to wait for it. */
  private blocked(): boolean {
    return this.open?.kind === 'tool' && !AnthropicStreamEncoder.finished(this.open.call);
  }

  /** While something waits and the open block does not hold it back: closes that block and opens the next. */
  private advance(): string[] {
    const frames: string[] = [];
    while (this.pending.length > 0 && !this.blocked()) frames.push(...this.close(), ...this.openPending(this.pending.shift()!));
    return frames;
  }

  /** Closes the open block, then opens and closes everything that waits, in order. */
  private closeAll(): string[] {
    const frames = this.close();
    for (let p = this.pending.shift(); p; p = this.pending.shift()) frames.push(...this.openPending(p), ...this.close());
    return frames;
  }

  /** A call that has to wait: after the last waiting text, among the calls since then in index order. */
  private enqueue(c: ToolCallState): void {
    let at = this.pending.length;
    while (at > 0) {
      const before = this.pending[at - 1]!;
      if (before.kind !== 'call' || before.call.toolIndex < c.toolIndex) break;
      at--;
    }
    this.pending.splice(at, 0, { kind: 'call', call: c });
  }

  /** A call seen for the first time: opened at once unless an unfinished tool block is open (then it waits). */
  private admit(c: ToolCallState): string[] {
    this.calls.set(c.toolIndex, c);
    if (this.pending.length > 0 || this.blocked()) {
      this.enqueue(c);
      return [];
    }
    return [...this.close(), ...this.openCall(c)];
  }

  private text(delta: string): string[] {
    if (delta === '') return [];
    if (this.open?.kind === 'text') return [this.textDelta(delta)];
    if (this.pending.length > 0 || this.blocked()) {
      const last = this.pending.at(-1);
      if (last?.kind === 'text') last.text += delta;
      else this.pending.push({ kind: 'text', text: delta });
      return [];
    }
    return [...this.close(), ...this.openText(delta)];
  }

  private unfixable(c: ToolCallState, what: string): LLMError {
    return new LLMError({
      code: 'invalid_response',
      message: `Tool call ${c.id} (${c.name || `index ${c.toolIndex}`}) ${what}; its content block was already sent, so its streamed input would be wrong`,
    });
  }

  private piece(part: Extract<StreamPart, { type: 'tool-call-delta' }>): string[] {
    const known = this.calls.get(part.index);
    if (!known) {
      // Engines send the call id on a call's first piece; `toolu_<index>` only if one does not.
      const c: ToolCallState = { toolIndex: part.index, id: part.id ?? `toolu_${part.index}`, resultId: part.id ?? '', name: part.name ?? '', args: part.argumentsDelta, sent: '', state: 'waiting', whole: false, end: new JsonEnd() };
      c.end.feed(part.argumentsDelta);
      return this.admit(c);
    }
    const fed = feedPiece(known, part);
    if (fed === 'kept') return [];
    if (fed === 'late') throw this.unfixable(known, 'got more arguments after its block was closed');
    const frames = this.argsDelta(known, part.argumentsDelta);
    // The common sequential case (nothing waits) stops here.
    if (this.pending.length === 0) return frames;
    return [...frames, ...this.advance()];
  }

  /** The call's final arguments in (`finalArgsSuffix`): what is still to send of them, or an error. */
  private finalArgs(c: ToolCallState, args: string): string[] {
    const suffix = finalArgsSuffix(c, args);
    if (suffix === undefined) throw this.unfixable(c, `has the arguments ${quoteArgs(args)} but ${quoteArgs(c.sent)} were streamed`);
    return this.argsDelta(c, suffix);
  }

  private wholeCall(part: Extract<StreamPart, { type: 'tool-call' }>): string[] {
    const w = part.toolCall;
    const known = this.calls.get(part.index);
    if (!known) {
      // Engines that emit whole calls without pieces: the arguments as one delta.
      return this.admit({ toolIndex: part.index, id: w.id, resultId: w.id, name: w.name, args: w.arguments, sent: '', state: 'waiting', whole: true, end: new JsonEnd() });
    }
    if (!takeWholeCall(known, w)) return [];
    const frames = this.finalArgs(known, w.arguments);
    if (known.state === 'open' && this.pending.length > 0) frames.push(...this.advance());
    return frames;
  }

  /** `message_start` and `ping` once the head went through `part` (nothing if they went out already). */
  afterHead(): string[] {
    return this.opening();
  }

  part(part: StreamPart): string[] {
    if (this.route) {
      if (part.type === 'usage') this.promptUsage = part.usage;
      const frames = this.content(part);
      return frames.length > 0 ? [...this.opening(), ...frames] : frames;
    }
    return this.content(part);
  }

  private content(part: StreamPart): string[] {
    if (part.type === 'text-delta') return this.text(part.delta);
    if (part.type === 'tool-call-delta') return this.piece(part);
    if (part.type === 'tool-call') return this.wholeCall(part);
    if (part.type === 'reasoning-delta') return this.reasoning(part);
    return [];
  }

  /** The result's tool calls against the calls seen: final arguments in, calls never seen added (they wait). */
  private reconcile(result: RouterResult): string[] {
    const { paired, unseen } = pairFinalToolCalls(this.calls.values(), result.toolCalls);
    const frames: string[] = [];
    for (const [c, w] of paired) if (!c.whole) frames.push(...this.finalArgs(c, w.arguments));
    let index = Math.max(-1, ...this.calls.keys());
    for (const w of unseen) {
      index++;
      frames.push(...this.admit({ toolIndex: index, id: w.id, resultId: w.id, name: w.name, args: w.arguments, sent: '', state: 'waiting', whole: true, end: new JsonEnd() }));
    }
    return frames;
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    return [
      ...this.opening(),
      ...this.reconcile(result),
      ...this.closeAll(),
      event({
        type: 'message_delta',
        delta: toAnthropicStop(part, result.refusal),
        usage: toAnthropicDeltaUsage(answerUsage(result)),
        llmrr: llmrrInfo(result, this.options.explain),
      }),
      event({ type: 'message_stop' }),
    ];
  }

  /** Anthropic's own keep-alive, before `message_start` on a stream committed before its first content (`streamHoldMs`). */
  keepAlive(): string {
    return PING;
  }

  error(error: LLMError, requestId: string): string[] {
    return [...this.opening(), event({ type: 'error', ...errorBody(error, requestId, 'anthropic') } as EventWithExtras)];
  }
}
