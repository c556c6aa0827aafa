import type { StreamPart, ToolCall } from '@llmrr/core';
import type { SeenToolCall } from './final-tool-calls.js';
import { sameJson, type JsonEnd } from './json-end.js';

/**
 * A tool call a stream encoder holds while it streams it (the chat and messages encoders): calls that start
 * while an unfinished one is open wait, and text that comes inside a call waits for it.
 */
export interface BufferedToolCall extends SeenToolCall {
  /** Sent when the call opens; never changed after. */
  id: string;
  name: string;
  /** The arguments so far: the pieces appended, or the whole call's. */
  args: string;
  /** The part of `args` sent (the client joins it). */
  sent: string;
  /** `waiting`: nothing of it sent yet; `open`: its pieces go out live; `closed`: it can no longer take any. */
  state: 'waiting' | 'open' | 'closed';
  /** The whole call (a `tool-call` part) came: its arguments are final, later pieces are ignored. */
  whole: boolean;
  /** Whether the pieces so far are whole JSON (fed with every piece). */
  end: JsonEnd;
}

/**
 * What a piece of arguments for a call already seen does: `kept` (ignored, or held while the call waits),
 * `late` (arguments for a closed call: they cannot be sent), `live` (appended: the encoder sends it now).
 */
export type PieceOutcome = 'kept' | 'late' | 'live';

export function feedPiece(c: BufferedToolCall, part: Extract<StreamPart, { type: 'tool-call-delta' }>): PieceOutcome {
  if (c.whole) return 'kept';
  if (part.id) c.resultId = part.id;
  if (c.state === 'closed') {
    // A closed call is whole JSON: only whitespace can still come (not sent: it would reopen the call).
    return part.argumentsDelta.trim() === '' ? 'kept' : 'late';
  }
  if (c.state === 'waiting' && !c.name && part.name) c.name = part.name;
  c.args += part.argumentsDelta;
  c.end.feed(part.argumentsDelta);
  return c.state === 'open' ? 'live' : 'kept';
}

/** A whole `tool-call` part for a call seen in pieces: false when one came already (nothing to do). */
export function takeWholeCall(c: BufferedToolCall, w: ToolCall): boolean {
  if (c.whole) return false;
  c.whole = true;
  c.resultId = w.id;
  if (c.state === 'waiting') {
    // Nothing of it was sent yet: the whole call is what it will open with.
    c.id = w.id;
    if (!c.name) c.name = w.name;
  }
  return true;
}

/**
 * Sets the call's final arguments. Returns what is still to send: `''` when nothing (a call not sent yet
 * takes them; a sent one whose arguments have the same JSON value), the missing suffix when the call is open
 * and its sent arguments are a prefix of them; `undefined` when what was sent cannot become them.
 */
export function finalArgsSuffix(c: BufferedToolCall, args: string): string | undefined {
  c.args = args;
  if (c.state === 'waiting' || args === c.sent || sameJson(args, c.sent)) return '';
  if (c.state === 'closed' || !args.startsWith(c.sent)) return undefined;
  return args.slice(c.sent.length);
}
