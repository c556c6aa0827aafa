import { LLMError, type RouterResult, type StreamPart } from '@llmrr/core';
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

/** A tool call of the stream, by tool index. */
interface ToolCallState {
  toolIndex: number;
  /** Sent on `content_block_start`; never changed after. */
  id: string;
  name: string;
  /** The arguments so far: the pieces appended, or the whole call's. */
  args: string;
  /** The part of `args` sent in `input_json_delta`s. */
  sent: string;
  state: 'waiting' | 'open' | 'closed';
  /** The whole call (a `tool-call` part) came: its arguments are final, later pieces are ignored. */
  whole: boolean;
  /** Whether the pieces so far are whole JSON (fed with every piece). */
  end: JsonEnd;
}

/**
 * Whether a call's arguments, fed piece by piece, are a whole JSON object or array (what tool arguments
 * are): nothing can follow them but whitespace, so the call is finished. An incremental scan of brackets
 * and strings, O(piece) per piece (re-reading the whole text on every piece made a long argument quadratic
 * while another call waited); confirmed once with `JSON.parse` when the brackets first close.
 */
class JsonEnd {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** 0: nothing but whitespace yet; 1: an object or array started; 2: it closed; -1: never whole by this scan. */
  private phase: -1 | 0 | 1 | 2 = 0;
  private confirmed: boolean | undefined;

  feed(piece: string): void {
    if (this.phase === -1) return;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (this.phase === 2) {
        // Only whitespace may follow a whole value.
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
          this.phase = -1;
          return;
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true; // backslash
        else if (c === 0x22) this.inString = false; // "
        continue;
      }
      if (c === 0x22) {
        if (this.phase === 0) {
          this.phase = -1; // a top-level string: not tool arguments
          return;
        }
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        // { or [
        this.phase = 1;
        this.depth++;
      } else if (c === 0x7d || c === 0x5d) {
        // } or ]
        if (this.phase !== 1) {
          this.phase = -1;
          return;
        }
        if (--this.depth === 0) this.phase = 2;
      } else if (this.phase === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.phase = -1; // a top-level number, literal or garbage
        return;
      }
    }
  }

  /** The arguments fed so far (`args`) are whole JSON; parsed at most once. */
  whole(args: string): boolean {
    if (this.phase !== 2) return false;
    if (this.confirmed === undefined) {
      try {
        JSON.parse(args);
        this.confirmed = true;
      } catch {
        this.confirmed = false;
      }
    }
    return this.confirmed;
  }
}

/** Two argument texts with the same JSON value (they differ at most in whitespace). */
function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/** Arguments quoted for an error message, at most 200 characters of them. */
function clip(args: string): string {
  return JSON.stringify(args.length > 200 ? `${args.slice(0, 200)}...` : args);
}

/**
 * Anthropic Messages streaming events in Anthropic's order: `message_start`, `ping`, per content block
 * `content_block_start` / `content_block_delta`* / `content_block_stop`, then `message_delta` (stop reason,
 * usage) and `message_stop`. A stream that breaks after its first byte ends with `event: error`.
 *
 * Content blocks are strictly one after another (clients drop a block's state at its stop), while parallel
 * tool calls may interleave their argument pieces (OpenAI's chat wire keys them by index). So one tool block
 * is open at a time and streams live; a call that starts while the open one's arguments are not yet a
 * whole JSON value waits, its pieces buffered. The open call is closed when its arguments become whole
 * JSON (or its whole `tool-call` part comes) and a call is waiting, when a new call starts after it is
 * whole, when text starts, or at the finish; then the waiting call with the lowest index opens, its
 * buffered arguments in one `input_json_delta`. In the common sequential case nothing waits: every call
 * streams live. A whole `tool-call` part completes a call's streamed arguments with the missing suffix;
 * arguments that can no longer be put right on the wire (a piece for a closed block, or a whole call
 * that its streamed text is not a prefix of) end the stream with the error event, never silently.
 */
export class AnthropicStreamEncoder implements StreamEncoder {
  private blockIndex = -1;
  private open: { kind: 'text' } | { kind: 'tool'; call: ToolCallState } | undefined;
  private readonly calls = new Map<number, ToolCallState>();
  /** Calls waiting for the open tool block to close, by tool index (lowest first). */
  private readonly waiting: ToolCallState[] = [];

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
    if (this.open.kind === 'tool') this.open.call.state = 'closed';
    this.open = undefined;
    return [event({ type: 'content_block_stop', index: this.blockIndex })];
  }

  private argsDelta(c: ToolCallState, json: string): string[] {
    if (json === '') return [];
    c.sent += json;
    return [event({ type: 'content_block_delta', index: this.blockIndex, delta: { type: 'input_json_delta', partial_json: json } })];
  }

  /** Opens the block of `c` (nothing else is open), with the arguments it has so far. */
  private openCall(c: ToolCallState): string[] {
    this.blockIndex++;
    this.open = { kind: 'tool', call: c };
    c.state = 'open';
    const start = event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
    return [start, ...this.argsDelta(c, c.args)];
  }

  /** While the open call is finished and a call waits: closes it and opens the lowest waiting call. */
  private advance(): string[] {
    const frames: string[] = [];
    while (this.open?.kind === 'tool' && this.waiting.length > 0 && (this.open.call.whole || this.open.call.end.whole(this.open.call.args))) {
      frames.push(...this.close(), ...this.openCall(this.waiting.shift()!));
    }
    return frames;
  }

  /** Closes the open block, then opens and closes every waiting call in index order. */
  private closeAll(): string[] {
    const frames = this.close();
    for (let c = this.waiting.shift(); c; c = this.waiting.shift()) frames.push(...this.openCall(c), ...this.close());
    return frames;
  }

  /** A call seen for the first time: opened at once unless another tool block is open and not finished. */
  private admit(c: ToolCallState): string[] {
    this.calls.set(c.toolIndex, c);
    if (this.open?.kind !== 'tool') return [...this.close(), ...this.openCall(c)];
    let at = this.waiting.findIndex((w) => w.toolIndex > c.toolIndex);
    if (at < 0) at = this.waiting.length;
    this.waiting.splice(at, 0, c);
    return this.advance();
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
      const c: ToolCallState = { toolIndex: part.index, id: part.id ?? `toolu_${part.index}`, name: part.name ?? '', args: part.argumentsDelta, sent: '', state: 'waiting', whole: false, end: new JsonEnd() };
      c.end.feed(part.argumentsDelta);
      return this.admit(c);
    }
    if (known.whole) return [];
    if (known.state === 'waiting') {
      if (!known.name && part.name) known.name = part.name;
      known.args += part.argumentsDelta;
      known.end.feed(part.argumentsDelta);
      return [];
    }
    if (known.state === 'closed') {
      if (part.argumentsDelta.trim() === '') return [];
      throw this.unfixable(known, 'got more arguments after its block was closed');
    }
    known.args += part.argumentsDelta;
    known.end.feed(part.argumentsDelta);
    const frames = this.argsDelta(known, part.argumentsDelta);
    // The common sequential case (nothing waits) stops here.
    if (this.waiting.length === 0) return frames;
    return [...frames, ...this.advance()];
  }

  private wholeCall(part: Extract<StreamPart, { type: 'tool-call' }>): string[] {
    const w = part.toolCall;
    const known = this.calls.get(part.index);
    if (!known) {
      // Engines that emit whole calls without pieces: the arguments as one delta.
      return this.admit({ toolIndex: part.index, id: w.id, name: w.name, args: w.arguments, sent: '', state: 'waiting', whole: true, end: new JsonEnd() });
    }
    if (known.whole) return [];
    known.whole = true;
    if (known.state === 'waiting') {
      // Nothing of it was sent yet: the whole call is what it will open with.
      known.id = w.id;
      if (!known.name) known.name = w.name;
      known.args = w.arguments;
      return [];
    }
    known.args = w.arguments;
    const frames: string[] = [];
    if (w.arguments !== known.sent && !sameJson(w.arguments, known.sent)) {
      if (known.state === 'closed' || !w.arguments.startsWith(known.sent)) {
        throw this.unfixable(known, `has the arguments ${clip(w.arguments)} but ${clip(known.sent)} were streamed`);
      }
      frames.push(...this.argsDelta(known, w.arguments.slice(known.sent.length)));
    }
    if (known.state === 'open') frames.push(...this.advance());
    return frames;
  }

  part(part: StreamPart): string[] {
    if (part.type === 'text-delta') {
      if (part.delta === '') return [];
      const frames: string[] = [];
      if (this.open?.kind !== 'text') {
        frames.push(...this.closeAll());
        this.blockIndex++;
        this.open = { kind: 'text' };
        frames.push(event({ type: 'content_block_start', index: this.blockIndex, content_block: { type: 'text', text: '' } }));
      }
      frames.push(event({ type: 'content_block_delta', index: this.blockIndex, delta: { type: 'text_delta', text: part.delta } }));
      return frames;
    }
    if (part.type === 'tool-call-delta') return this.piece(part);
    if (part.type === 'tool-call') return this.wholeCall(part);
    return [];
  }

  finish(part: Extract<StreamPart, { type: 'finish' }>, result: RouterResult): string[] {
    return [
      ...this.closeAll(),
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
