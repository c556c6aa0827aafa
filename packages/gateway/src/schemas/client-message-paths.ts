import type { CallWarning, GenerateRequest, LLMError } from '@llmrr/core';

/**
 * A core message made of several of the client's items (a `/v1/responses` assistant turn: an assistant message or a
 * function call, the function calls and text that joined it): where the message, its text and each of its tool calls
 * came from, so an error about core's `messages.N.toolCalls.K.arguments` names the client's item of that call.
 */
export interface JoinedMessagePath {
  /** The client's path of the message as a whole: the item the turn started with, e.g. `input.1`. */
  path: string;
  /** The client's path of the item its text came from, when not `path` (text after a function call; the first such item). */
  content?: string;
  /** The client's path of each of its tool calls, in order (`input.1`, `input.2`: the function_call items). */
  toolCalls?: readonly string[];
  /**
   * The client's names of a tool call's fields under its item, where not a Responses function_call's (`call_id`,
   * `name`, `arguments`): `/v1/messages` tool_use blocks have `id`, `name`, `input`.
   */
  callFields?: Readonly<{ id?: string; name?: string; arguments?: string }>;
}

/**
 * Where each message of a converted request came from: entry `i` is the client's message of core message `i`: a
 * number is its index in the client's `messages`; a string is the client's own path of it, e.g. `system` (an
 * `/v1/messages` system prompt), `instructions` or `input.3` (`/v1/responses`, whose messages are `input` items);
 * an object is a message joined from several items (`JoinedMessagePath`). A conversion may make several core
 * messages of one client message (`/v1/messages` tool results) or one of several (a Responses function call joins
 * the assistant turn before it), so core's indexes are not always the client's.
 */
export type ClientMessagePaths = ReadonlyArray<number | string | JoinedMessagePath>;

/** A client body as the core request, and where its messages came from (undefined: one core message per client message, in order). */
export interface ConvertedRequest {
  request: GenerateRequest;
  messagePaths: ClientMessagePaths | undefined;
}

/**
 * `messages.N` (core's own errors and warnings), `messages[N]` (OpenAI's `param` today) or `messages.[N]` (OpenAI's
 * older form, and compatible servers'), passed through by the OpenAI-compatible engine.
 */
const CORE_PATH = /^messages(?:\.(\d+)(?!\d)|(\.?)\[(\d+)\])/;

/** After a core message path: one of its tool calls (core's `.toolCalls.K`, or OpenAI's `.tool_calls[K]`). */
const TOOL_CALL = /^\.(?:toolCalls|tool_calls)(?:\.(\d+)(?!\d)|\[(\d+)\])/;

/** After a tool call path: its field (OpenAI's under `.function`), as a function_call item names it (`id` is `call_id`). */
const CALL_FIELD = /^(?:\.function)?\.(id|name|arguments)(?![A-Za-z0-9_])/;

/** After a core message path: its content. */
const CONTENT = /^\.content(?![A-Za-z0-9_])/;

/** The indexes of a client path (`input.3`, `messages.1.content.0`), to write them in OpenAI's bracketed form. */
const INDEXES = /\.(\d+)(?=\.|$)/g;

/** Where a path names a core message: the client's path to put in place of `core` (in the same form), and how to find core's paths in text. */
interface Renaming {
  /** The core prefix as it is in the path (`messages.3`, `messages[3]`, `messages.1.toolCalls.1.arguments`). */
  core: string;
  client: string;
  /** Core paths in a message text and the client's in their place, longest first (`messages.3` but not `messages.31`). */
  inText: ReadonlyArray<readonly [RegExp, string]>;
}

/** `text` matched literally where it is not the start of a longer name or number. */
function literal(text: string): RegExp {
  return new RegExp(`\\b${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`, 'g');
}

/**
 * A client path in the form of the core path it replaces: `input[3]` (or `input.[3]`) for `input.3` when bracketed,
 * every index so (`messages.[1].content.[0]`).
 */
function inForm(path: string, bracketed: boolean, dot: string): string {
  return bracketed ? path.replace(INDEXES, `${dot}[$1]`) : path;
}

function renaming(path: string, paths: ClientMessagePaths): Renaming | undefined {
  const m = CORE_PATH.exec(path);
  if (!m) return undefined;
  const bracketed = m[3] !== undefined;
  const dot = m[2] ?? '';
  const index = (m[1] ?? m[3])!;
  const from = paths[Number(index)];
  if (from === undefined) return undefined;
  let client: string;
  if (typeof from === 'number') client = bracketed ? `messages${dot}[${from}]` : `messages.${from}`;
  else if (typeof from === 'string') client = inForm(from, bracketed, dot);
  else {
    client = inForm(from.path, bracketed, dot);
    const part = joinedPart(path.slice(m[0].length), from, bracketed, dot);
    if (part) {
      const core = m[0] + part.core;
      return { core, client: part.client, inText: [[literal(core), part.client], [literal(m[0]), client]] };
    }
  }
  if (client === m[0]) return undefined;
  return { core: m[0], client, inText: [[literal(m[0]), client]] };
}

/** After a joined message's path (`rest`): a tool call (and its field) or the content, as the client's item of it. */
function joinedPart(rest: string, from: JoinedMessagePath, bracketed: boolean, dot: string): { core: string; client: string } | undefined {
  const call = TOOL_CALL.exec(rest);
  if (call) {
    const item = from.toolCalls?.[Number(call[1] ?? call[2])];
    if (item === undefined) return undefined;
    const field = CALL_FIELD.exec(rest.slice(call[0].length));
    const client = inForm(item, bracketed, dot) + (field ? `.${callField(field[1] as 'id' | 'name' | 'arguments', from)}` : '');
    return { core: call[0] + (field?.[0] ?? ''), client };
  }
  const content = from.content === undefined ? null : CONTENT.exec(rest);
  return content ? { core: content[0], client: `${inForm(from.content!, bracketed, dot)}.content` } : undefined;
}

/** A tool call's field as the client names it under the call's item (`call_id` on a Responses function_call). */
function callField(field: 'id' | 'name' | 'arguments', from: JoinedMessagePath): string {
  return from.callFields?.[field] ?? (field === 'id' ? 'call_id' : field);
}

/** `text` with the core paths of `r` as the client's. */
function renamedText(text: string, r: Renaming): string {
  let out = text;
  for (const [pattern, client] of r.inText) out = out.replace(pattern, client);
  return out;
}

/**
 * `path` naming the client's message where it names a core message (`messages.3.content` is `messages.2.content`
 * when a system prompt came first, `input.1.content` on `/v1/responses`); the path itself otherwise.
 */
export function clientFieldPath(path: string, paths: ClientMessagePaths | undefined): string {
  if (paths === undefined) return path;
  const r = renaming(path, paths);
  return r ? r.client + path.slice(r.core.length) : path;
}

/**
 * `error` naming the client's message where it names a core message (`param` `messages.N...` or OpenAI's
 * `messages[N]...` or `messages.[N]...`, in the same form, and that path in its text): an engine's 400 about core message 3 is about
 * the client's `messages.2` when a system prompt came before it. The error itself when it names no message, or the
 * same one.
 */
export function withClientMessagePath(error: LLMError, paths: ClientMessagePaths | undefined): LLMError {
  const param = error.param;
  if (paths === undefined || param === undefined) return error;
  const r = renaming(param, paths);
  if (!r) return error;
  return error.with({ param: r.client + param.slice(r.core.length), message: renamedText(error.message, r) });
}

/**
 * The warnings naming the client's messages (their `field`, and that path in their text), as
 * `withClientMessagePath` does for errors. The same array when nothing changes.
 */
export function withClientWarningPaths(warnings: readonly CallWarning[], paths: ClientMessagePaths | undefined): readonly CallWarning[] {
  if (paths === undefined) return warnings;
  let out: CallWarning[] | undefined;
  for (let i = 0; i < warnings.length; i++) {
    const w = warnings[i]!;
    const r = w.field === undefined ? undefined : renaming(w.field, paths);
    if (!r) continue;
    out ??= warnings.slice();
    out[i] = { ...w, field: r.client + w.field!.slice(r.core.length), message: renamedText(w.message, r) };
  }
  return out ?? warnings;
}
