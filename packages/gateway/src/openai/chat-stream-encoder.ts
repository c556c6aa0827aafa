import { LLMError, type RouterResult, type StreamPart } from '@llmrr/core';
import { errorBody } from '../http/error-body.js';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { OpenAIChatChunk } from '../schemas/openai-chat.js';
import { feedPiece, finalArgsSuffix, takeWholeCall, type BufferedToolCall } from '../streaming/buffered-tool-call.js';
import { pairFinalToolCalls, quoteArgs } from '../streaming/final-tool-calls.js';
import { JsonEnd } from '../streaming/json-end.js';
import { carriesTextOrCall, type StreamEncoder } from '../streaming/sse-response.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { chatCompletionId } from './chat-response.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toChatLogprobs } from './openai-logprobs.js';
import { toOpenAIUsage } from './usage.js';

type Choice = OpenAIChatChunk['choices'][number];
type Delta = Choice['delta'];

/** A tool call of the stream, by its index. */
/** `id` is sent on the call's first delta; `closed`: a later call was sent after it. */
interface ToolCallState extends BufferedToolCall {
  /** The engine's index (parts are keyed by it). */
  index: number;
  /** The index the client sees: calls are numbered 0, 1, 2... in the order they are sent (-1: not sent yet). */
  wireIndex: number;
}

export const DONE_FRAME = 'data: [DONE]\n\n';

/** Characters `JSON.stringify` writes escaped in a string: quote, backslash, controls, and (when lone) surrogates. */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

export function dataFrame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/**
 * OpenAI `chat.completion.chunk` frames, as the OpenAI API sends them: a first chunk with the role (and
 * `content: null`: sent before the answer is known, see `start`), content deltas, tool-call deltas (id/type/name on a call's first delta), a finish chunk with an empty
 * delta, then (with `stream_options.include_usage`) a chunk with empty `choices` and the usage, then `[DONE]`.
 *
 * Tool calls go out one after another, as OpenAI sends them: clients join the pieces by `index`, but the
 * official `openai` client's stream helper (`chat.completions.stream()`) also takes a delta for a new index as
 * the end of the previous call (it fires `tool_calls.function.arguments.done` with the arguments so far, and
 * JSON-parses them for strict and zod tools). Upstreams on the chat wire may interleave the pieces of
 * parallel calls, so one call is open at a time and streams live; while its arguments are not yet a whole
 * JSON value (and its whole `tool-call` part has not come), a call that starts waits, its pieces buffered;
 * when the open call becomes whole, the waiting calls are sent in index order, each with its buffered
 * arguments in one delta, and the first one still unfinished becomes the open call. Text and reasoning stay
 * live (the chat wire allows them anywhere between tool-call deltas). In the common sequential case nothing
 * waits. Buffering holds nothing beyond the answer's own output, at O(piece) cost per piece. The client's
 * `index` numbers the calls 0, 1, 2... in the order they are sent, as OpenAI does (the helper keeps calls in
 * an array by index: an index skipped, as an engine's index can be, fails its final message).
 *
 * A call's whole `tool-call` part, and at the finish the router result's calls (the non-streamed answer's),
 * are checked against what was sent: a call never sent is sent whole (at the finish: before the finish
 * chunk, after the rest); a call not sent yet goes out with its final arguments; the open call's
 * arguments that are a prefix of the final ones get the missing suffix; the same JSON value needs nothing.
 * Sent arguments cannot be taken back (and a closed call's `done` event has fired), so any other difference,
 * or a piece that would change a closed call, is an error (the stream ends with its error chunk), never a
 * silent mismatch.
 *
 * When the request asked for log probabilities (`options.logprobs`), a content chunk carries its tokens'
 * `logprobs: { content, refusal: null }`: the router sends a text delta and then its `logprobs` part, so the delta
 * waits for the next part (a `logprobs` part joins it; anything else sends it alone first). Other streams send
 * every delta at once, byte for byte as before.
 *
 * A request with legacy `functions` (`options.legacyFunctions`) gets its first call as `delta.function_call` (`name`
 * and `arguments` first, then `arguments` pieces) and a tool-call finish as `function_call`, as OpenAI streams such an
 * answer (one call: such a request is sent `parallelToolCalls: false`); further calls (a provider that made several
 * anyway) are not sent, as `toChatCompletion` leaves them out: a legacy client reads only `function_call`.
 */
export class ChatStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';
  private readonly toolCalls = new Map<number, ToolCallState>();
  /** The call whose deltas go out live (the last one sent). */
  private open: ToolCallState | undefined;
  /** Calls sent so far (the next call's wire index). */
  private sentCalls = 0;
  /** Calls that wait for the open one to finish, in index order. Empty unless the open call is unfinished. */
  private readonly waiting: ToolCallState[] = [];
  /** `data: {"id":...,"system_fingerprint":null`: every chunk's first keys, encoded once per stream. */
  private envelope = '';
  /** `data: {...,"choices":[{"index":0,"delta":` and `,"logprobs":null,"finish_reason":null}]...}\n\n`: the constant parts of a content chunk, encoded once per stream. */
  private head = '';
  private tail = '';
  /** `tail` after the `logprobs` value: `,"finish_reason":null}]...}\n\n`. */
  private afterLogprobs = '';
  /**
   * `head` with `{"content":"` and with `{"reasoning_content":"`, and `"}` with `tail`: the bytes around the text of a
   * content or reasoning chunk (`textFrame`).
   */
  private contentHead = '';
  private reasoningHead = '';
  private textTail = '';
  /**
   * With `logprobs` asked for: a text delta not sent yet, waiting for the `logprobs` part that comes right after
   * it, so both go out in one chunk (as OpenAI sends them). Never set otherwise.
   */
  private held: string | undefined;

  /**
   * `logprobs`: the request asked for log probabilities (text deltas then wait one part for theirs). `legacyFunctions`:
   * the request gave legacy `functions` (the first call goes as `function_call`).
   */
  constructor(private readonly options: { created: number; includeUsage: boolean; explain: boolean; logprobs?: boolean; legacyFunctions?: boolean }) {}

  /** The call sent as a legacy `function_call`: the first of a legacy `functions` request's answer. */
  private isFunctionCall(c: ToolCallState): boolean {
    return c.wireIndex === 0 && this.options.legacyFunctions === true;
  }

  /** A call after a legacy `function_call`: not sent (a legacy answer has one call). */
  private isDropped(c: ToolCallState): boolean {
    return c.wireIndex > 0 && this.options.legacyFunctions === true;
  }

  start(route: RoutePart): string[] {
    this.id = chatCompletionId(route.requestId);
    this.model = route.deployment;
    // The bytes of `dataFrame(chunk)` for a chunk `{ id, object, created, model, system_fingerprint, choices: [{ index: 0,
    // delta, logprobs: null, finish_reason: null }], usage: null (with include_usage) }`, key order included; only
    // the delta is serialized per chunk.
    // (Written out rather than `JSON.stringify` of the object less its closing brace: the same bytes, three values
    // serialized instead of an object made and serialized per stream.)
    this.envelope = `data: {"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${JSON.stringify(this.options.created)},"model":${JSON.stringify(this.model)},"system_fingerprint":null`;
    this.head = `${this.envelope},"choices":[{"index":0,"delta":`;
    this.afterLogprobs = `,"finish_reason":null}]${this.options.includeUsage ? ',"usage":null' : ''}}\n\n`;
    this.tail = `,"logprobs":null${this.afterLogprobs}`;
    this.contentHead = `${this.head}{"content":"`;
    this.reasoningHead = `${this.head}{"reasoning_content":"`;
    this.textTail = `"}${this.tail}`;
    // The role chunk goes out as the stream opens (the first byte waits for no token), before the answer is known
    // to have text: `content: null`, OpenAI's value when there is none yet (its first tool-call delta has it), not
    // its text answers' `""`, which clients that take any non-null `delta.content` as text (the AI SDK's
    // `openai.chat()`) turn into an empty text part before a tool-only answer's call.
    return [`${this.head}{"role":"assistant","content":null,"refusal":null}${this.tail}`];
  }

  /** A chunk with this delta and no finish reason. */
  private deltaFrame(delta: Delta): string {
    return this.head + JSON.stringify(delta) + this.tail;
  }

  /**
   * `deltaFrame({ content: text })` (`open`: `contentHead`) or `deltaFrame({ reasoning_content: text })` (`reasoningHead`),
   * byte for byte, without the delta object (one per text chunk): text that JSON writes as it is (most deltas) goes
   * between the quotes without `JSON.stringify`.
   */
  private textFrame(open: string, text: string): string {
    return open + (ESCAPED.test(text) ? JSON.stringify(text).slice(1, -1) : text) + this.textTail;
  }

  /** A content chunk with its tokens' log probabilities. */
  private logprobsFrame(text: string, part: Extract<StreamPart, { type: 'logprobs' }>): string {
    return `${this.head}${JSON.stringify({ content: text })},"logprobs":${JSON.stringify(toChatLogprobs(part.logprobs))}${this.afterLogprobs}`;
  }

  /** The held text delta as a chunk of its own (no `logprobs` part came for it), or nothing. */
  private flushHeld(): string[] {
    const text = this.held;
    if (text === undefined) return [];
    this.held = undefined;
    return [this.deltaFrame({ content: text })];
  }

  /** Text, reasoning with text and tool calls (an empty delta or a redacted reasoning block sends nothing here). */
  carriesContent(part: StreamPart): boolean {
    return carriesTextOrCall(part);
  }

  part(part: StreamPart): string[] {
    if (this.held !== undefined) {
      if (part.type === 'logprobs' && Array.isArray(part.logprobs)) {
        const frame = this.logprobsFrame(this.held, part);
        this.held = undefined;
        return [frame];
      }
      return this.afterHeld(() => this.part(part));
    }
    switch (part.type) {
      case 'text-delta':
        if (part.delta === '') return [];
        // The model's refusal: `delta.refusal`, as OpenAI streams it (no logprobs of its own to hold it for).
        if (part.refusal === true) return [this.deltaFrame({ refusal: part.delta })];
        if (this.options.logprobs === true) {
          this.held = part.delta;
          return [];
        }
        return [this.textFrame(this.contentHead, part.delta)];
      case 'logprobs':
        // Tokens without text of their own (or sent apart from theirs): a chunk with an empty content delta.
        return this.options.logprobs === true && Array.isArray(part.logprobs) ? [this.logprobsFrame('', part)] : [];
      case 'reasoning-delta':
        return part.delta === '' ? [] : [this.textFrame(this.reasoningHead, part.delta)];
      case 'tool-call-delta':
        return this.piece(part);
      case 'tool-call':
        return this.wholeCall(part);
      default:
        return [];
    }
  }

  /** The call's arguments are final: its whole part came, or its pieces are whole JSON. */
  private static finished(c: ToolCallState): boolean {
    return c.whole || c.end.whole(c.args);
  }

  /** The open call is unfinished: a call that starts now has to wait for it. */
  private blocked(): boolean {
    return this.open !== undefined && !ChatStreamEncoder.finished(this.open);
  }

  /**
   * Sends `c`'s first delta (id, type, name, its arguments so far; none for a call after a legacy `function_call`); it
   * becomes the open call.
   */
  private openCall(c: ToolCallState, frames: string[]): void {
    if (this.open) this.open.state = 'closed';
    this.open = c;
    c.state = 'open';
    c.wireIndex = this.sentCalls++;
    c.sent = c.args;
    if (this.isDropped(c)) return;
    if (this.isFunctionCall(c)) frames.push(this.deltaFrame({ function_call: { name: c.name, arguments: c.args } }));
    else frames.push(this.deltaFrame({ tool_calls: [{ index: c.wireIndex, id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }] }));
  }

  /** An arguments delta of the open call `c`. */
  private argsDelta(c: ToolCallState, args: string): string[] {
    if (args === '') return [];
    c.sent += args;
    if (this.isDropped(c)) return [];
    if (this.isFunctionCall(c)) return [`${this.head}{"function_call":{"arguments":${JSON.stringify(args)}}}${this.tail}`];
    // `deltaFrame({ tool_calls: [{ index, function: { arguments } }] })` byte for byte, without the four objects made
    // and serialized per piece (a call's arguments come in many pieces): only the arguments are serialized.
    return [`${this.head}{"tool_calls":[{"index":${c.wireIndex},"function":{"arguments":${JSON.stringify(args)}}}]}${this.tail}`];
  }

  /** While calls wait and the open call does not hold them back: sends the next. */
  private advance(): string[] {
    const frames: string[] = [];
    while (this.waiting.length > 0 && !this.blocked()) this.openCall(this.waiting.shift()!, frames);
    return frames;
  }

  /** A call seen for the first time: sent at once unless an unfinished call is open (then it waits, by index). */
  private admit(c: ToolCallState): string[] {
    this.toolCalls.set(c.index, c);
    if (this.waiting.length > 0 || this.blocked()) {
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1]!.index > c.index) at--;
      this.waiting.splice(at, 0, c);
      return [];
    }
    const frames: string[] = [];
    this.openCall(c, frames);
    return frames;
  }

  private unfixable(c: ToolCallState, what: string): LLMError {
    return new LLMError({
      code: 'invalid_response',
      message: `Tool call ${c.id} (${c.name || `index ${c.index}`}) ${what}; they cannot be taken back`,
    });
  }

  private piece(part: Extract<StreamPart, { type: 'tool-call-delta' }>): string[] {
    const known = this.toolCalls.get(part.index);
    if (!known) {
      const c: ToolCallState = { index: part.index, id: part.id ?? `call_${part.index}`, resultId: part.id ?? '', name: part.name ?? '', args: part.argumentsDelta, wireIndex: -1, sent: '', state: 'waiting', whole: false, end: new JsonEnd() };
      c.end.feed(part.argumentsDelta);
      return this.admit(c);
    }
    const fed = feedPiece(known, part);
    if (fed === 'kept') return [];
    if (fed === 'late') throw this.unfixable(known, `got more arguments (${quoteArgs(part.argumentsDelta)}) after a later call was sent`);
    const frames = this.argsDelta(known, part.argumentsDelta);
    // The common sequential case (nothing waits) stops here.
    if (this.waiting.length === 0) return frames;
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
    const known = this.toolCalls.get(part.index);
    // Engines that emit whole calls without deltas: the call as one delta.
    if (!known) return this.admit({ index: part.index, id: w.id, resultId: w.id, name: w.name, args: w.arguments, wireIndex: -1, sent: '', state: 'waiting', whole: true, end: new JsonEnd() });
    if (!takeWholeCall(known, w)) return [];
    const frames = this.finalArgs(known, w.arguments);
    if (known.state === 'open' && this.waiting.length > 0) frames.push(...this.advance());
    return frames;
  }

  /** The result's calls against the calls seen: final arguments in, calls never seen added; then all that waits is sent. */
  private reconcile(result: RouterResult): string[] {
    const frames: string[] = [];
    if (result.toolCalls.length > 0) {
      const { paired, unseen } = pairFinalToolCalls(this.toolCalls.values(), result.toolCalls);
      for (const [c, w] of paired) if (!c.whole) frames.push(...this.finalArgs(c, w.arguments));
      let index = Math.max(-1, ...this.toolCalls.keys());
      for (const w of unseen) {
        index++;
        frames.push(...this.admit({ index, id: w.id, resultId: w.id, name: w.name, args: w.arguments, wireIndex: -1, sent: '', state: 'waiting', whole: true, end: new JsonEnd() }));
      }
    }
    for (let c = this.waiting.shift(); c; c = this.waiting.shift()) this.openCall(c, frames);
    return frames;
  }

  /**
   * `run`'s frames after the held text's (a logprobs stream holds a text delta for one part): if `run` throws, the
   * text stays held so `error()` still sends it.
   */
  private afterHeld(run: () => string[]): string[] {
    const text = this.held;
    this.held = undefined;
    let frames: string[];
    try {
      frames = run();
    } catch (e) {
      this.held = text;
      throw e;
    }
    return text === undefined ? frames : [this.deltaFrame({ content: text }), ...frames];
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    const frames = this.afterHeld(() => this.reconcile(result));
    // The bytes of that chunk with an empty delta and the finish reason (with `llmrr` last when there is no usage chunk) and of the
    // usage chunk `{ ...envelope, choices: [], usage, llmrr }`, from the stream's encoded envelope.
    const last = `${this.head}{},"logprobs":null,"finish_reason":${JSON.stringify(toOpenAIFinishReason(part.finishReason, this.options.legacyFunctions))}}]`;
    const info = JSON.stringify(llmrrInfo(result, this.options.explain));
    if (this.options.includeUsage) {
      frames.push(`${last},"usage":null}\n\n`, `${this.envelope},"choices":[],"usage":${JSON.stringify(toOpenAIUsage(answerUsage(result)))},"llmrr":${info}}\n\n`);
    } else {
      frames.push(`${last},"llmrr":${info}}\n\n`);
    }
    frames.push(DONE_FRAME);
    return frames;
  }

  error(error: LLMError, requestId: string): string[] {
    return [...this.flushHeld(), dataFrame(errorBody(error, requestId))];
  }
}
