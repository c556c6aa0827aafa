import type { CallWarning, GenerateRequest, LLMError } from '@llmrr/core';
import { clientFieldName, clientFieldText, otherClientFieldsText, type ClientFieldNames } from './client-field-names.js';

/**
 * A core message whose client path is more than one string: one made of several of the client's items (a
 * `/v1/responses` assistant turn: an assistant message or a function call, the function calls and text that joined
 * it), where the message, its text and each of its tool calls came from, so an error about core's
 * `messages.N.toolCalls.K.arguments` names the client's item of that call; or one whose fields the client names
 * otherwise (a string field that is the message's text, a function_call_output item's `call_id` and `output`).
 */
export interface JoinedMessagePath {
  /** The client's path of the message as a whole: the item the turn started with, e.g. `input.1`. */
  path: string;
  /**
   * `path` is the message's text itself, a string with no `content` of its own (`/v1/completions`' `prompt` or
   * `prompt.0`, a string `/v1/responses` `input`, `instructions`): core's `messages.N.content` is `path`.
   */
  text?: boolean;
  /** The client's path of the item its text came from, when not `path` (text after a function call; the first such item). */
  content?: string;
  /** The client's path of each of its tool calls, in order (`input.1`, `input.2`: the function_call items). */
  toolCalls?: readonly string[];
  /**
   * The client's names of a tool call's fields under its item, where not a Responses function_call's (`call_id`,
   * `name`, `arguments`): `/v1/messages` tool_use blocks have `id`, `name`, `input`.
   */
  callFields?: Readonly<{ id?: string; name?: string; arguments?: string }>;
  /**
   * The client's names of the message's own fields under `path`, where not core's: a Responses function_call_output
   * item (core's tool message) has `call_id` for core's `toolCallId` (OpenAI's `tool_call_id`) and `output` for its
   * `content`; a `/v1/messages` tool_result block has `is_error` for its `isError`.
   */
  fields?: Readonly<{ toolCallId?: string; content?: string; isError?: string }>;
  /**
   * The client's path of each of the message's `parts` (core's `messages.N.parts.K`), where the client's blocks are
   * not core's parts one for one: a marked `/v1/messages` system prompt keeps only its non-empty blocks, so core's
   * `parts.1` may be the client's `system.2`; a tool message's parts are its tool_result's content blocks
   * (`messages.1.content.0.content.2`).
   */
  parts?: readonly string[];
  /**
   * The client's path of each of the message's content parts (core's `messages.N.content.K`), where the client's
   * blocks are not core's parts one for one: a `/v1/messages` user turn's text and image blocks after its tool_result
   * blocks (which are core messages of their own), so core's `content.0` may be the client's `messages.2.content.1`.
   */
  contentParts?: readonly string[];
}

/**
 * Where each message of a converted request came from: entry `i` is the client's message of core message `i`: a
 * number is its index in the client's `messages`; a string is the client's own path of it, e.g. `system` (an
 * `/v1/messages` system prompt) or `input.3` (`/v1/responses`, whose messages are `input` items); an object is a
 * message joined from several items, or one whose fields the client names otherwise (`JoinedMessagePath`). A
 * conversion may make several core messages of one client message (`/v1/messages` tool results) or one of several
 * (a Responses function call joins the assistant turn before it), so core's indexes are not always the client's.
 */
export type ClientMessagePaths = ReadonlyArray<number | string | JoinedMessagePath>;

/**
 * A client body as the core request, where its messages came from (undefined: one core message per client message,
 * in order), and how the client names core's other fields (undefined: as core does).
 */
export interface ConvertedRequest {
  request: GenerateRequest;
  messagePaths: ClientMessagePaths | undefined;
  fieldNames?: ClientFieldNames | undefined;
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

/** After a core message path: one of its `parts` (a marked system message's blocks, a tool result's). */
const PART = /^\.parts\.(\d+)(?!\d)/;

/** After a core message path: one of its content parts (core's `.content.K`, or OpenAI's `.content[K]`). */
const CONTENT_PART = /^\.content(?:\.(\d+)(?!\d)|\.?\[(\d+)\])/;

/** After a core message path: one of its own fields that a client may name otherwise (OpenAI's `tool_call_id` too). */
const OWN_FIELD = /^\.(content|toolCallId|tool_call_id|isError)(?![A-Za-z0-9_])/;

/** The indexes of a client path (`input.3`, `messages.1.content.0`), to write them in OpenAI's bracketed form. */
const INDEXES = /\.(\d+)(?=\.|$)/g;

/** Where a path names a core message: the client's path to put in place of `core` (in the same form), and how to find core's paths in text. */
interface Renaming {
  /** The core prefix as it is in the path (`messages.3`, `messages[3]`, `messages.1.toolCalls.1.arguments`). */
  core: string;
  client: string;
  /**
   * Core paths in a message text and the client's in their place, longest first (`messages.3.content` before
   * `messages.3`), each matched where it is not the start of a longer name or number (`messages.3` but not `messages.31`).
   */
  inText: ReadonlyArray<readonly [string, string]>;
}

/** `text` as a regular expression source matching it literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
    const rest = path.slice(m[0].length);
    const own = ownFields(from, client, bracketed, dot);
    const part = toolCallPart(rest, from, bracketed, dot) ?? partOf(rest, from, bracketed, dot) ?? ownFieldPart(rest, own);
    // In the text, the message's own fields before the message itself (`messages[0].content` is `prompt`, not `prompt.content`).
    const inText: Array<readonly [string, string]> = [];
    if (part) inText.push([m[0] + part.core, part.client]);
    for (const [field, c] of own) inText.push([`${m[0]}.${field}`, c]);
    inText.push([m[0], client]);
    return part ? { core: m[0] + part.core, client: part.client, inText } : { core: m[0], client, inText };
  }
  if (client === m[0]) return undefined;
  return { core: m[0], client, inText: [[m[0], client]] };
}

/** After a joined message's path (`rest`): one of its tool calls (and its field), as the client's item of it. */
function toolCallPart(rest: string, from: JoinedMessagePath, bracketed: boolean, dot: string): { core: string; client: string } | undefined {
  const call = TOOL_CALL.exec(rest);
  if (!call) return undefined;
  const item = from.toolCalls?.[Number(call[1] ?? call[2])];
  if (item === undefined) return undefined;
  const field = CALL_FIELD.exec(rest.slice(call[0].length));
  const client = inForm(item, bracketed, dot) + (field ? `.${callField(field[1] as 'id' | 'name' | 'arguments', from)}` : '');
  return { core: call[0] + (field?.[0] ?? ''), client };
}

/** After a joined message's path (`rest`): one of its `parts` (or `contentParts`), as the client's block of it. */
function partOf(rest: string, from: JoinedMessagePath, bracketed: boolean, dot: string): { core: string; client: string } | undefined {
  const m = from.parts === undefined ? null : PART.exec(rest);
  const client = m ? from.parts![Number(m[1])] : undefined;
  if (client !== undefined) return { core: m![0], client: inForm(client, bracketed, dot) };
  const c = from.contentParts === undefined ? null : CONTENT_PART.exec(rest);
  const block = c ? from.contentParts![Number(c[1] ?? c[2])] : undefined;
  return block === undefined ? undefined : { core: c![0], client: inForm(block, bracketed, dot) };
}

/**
 * The message's own fields the client names otherwise, and the client's path of each (`client`: the message's):
 * its content (the item of its text, or the message itself when it is a string field, or the item's own name for
 * it) and a tool message's `toolCallId` (and OpenAI's `tool_call_id`) and `isError`.
 */
function ownFields(from: JoinedMessagePath, client: string, bracketed: boolean, dot: string): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  const content =
    from.content !== undefined
      ? `${inForm(from.content, bracketed, dot)}.content`
      : from.text === true
        ? client
        : from.fields?.content !== undefined
          ? `${client}.${from.fields.content}`
          : undefined;
  if (content !== undefined) out.push(['content', content]);
  const id = from.fields?.toolCallId;
  if (id !== undefined) out.push(['toolCallId', `${client}.${id}`], ['tool_call_id', `${client}.${id}`]);
  const isError = from.fields?.isError;
  if (isError !== undefined) out.push(['isError', `${client}.${isError}`]);
  return out;
}

/** After a joined message's path (`rest`): one of its own fields (`own`), as the client names it. */
function ownFieldPart(rest: string, own: ReadonlyArray<readonly [string, string]>): { core: string; client: string } | undefined {
  const m = OWN_FIELD.exec(rest);
  if (!m) return undefined;
  const client = own.find(([field]) => field === m[1])?.[1];
  return client === undefined ? undefined : { core: m[0], client };
}

/** A tool call's field as the client names it under the call's item (`call_id` on a Responses function_call). */
function callField(field: 'id' | 'name' | 'arguments', from: JoinedMessagePath): string {
  return from.callFields?.[field] ?? (field === 'id' ? 'call_id' : field);
}

/**
 * `text` with the core paths of `r` as the client's, in one pass: a client path put in is never read again (the
 * client's `messages.3.content.1`, a `/v1/messages` tool result, is not core's `messages.3` renamed once more).
 */
function renamedText(text: string, r: Renaming): string {
  const clients = new Map<string, string>();
  for (const [core, client] of r.inText) if (!clients.has(core)) clients.set(core, client);
  const pattern = new RegExp(`\\b(?:${[...clients.keys()].map(literal).join('|')})(?![A-Za-z0-9_])`, 'g');
  return text.replace(pattern, (core) => clients.get(core) ?? core);
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
 * A path (and a text naming it) as the client's: its message (`paths`), then its field names (`names`), and, when
 * `others` (an error core or the gateway wrote about the request), the other core fields the text names
 * (`otherClientFieldsText`). Undefined when nothing changes.
 */
function clientNamed(path: string, text: string, paths: ClientMessagePaths | undefined, names: ClientFieldNames | undefined, others: boolean): { path: string; text: string } | undefined {
  const r = paths === undefined ? undefined : renaming(path, paths);
  const messaged = r ? r.client + path.slice(r.core.length) : path;
  const renamed = r ? renamedText(text, r) : text;
  const client = clientFieldName(messaged, names);
  const own = client === messaged ? renamed : clientFieldText(renamed, messaged, client, names);
  const named = others ? otherClientFieldsText(own, names) : own;
  return r || client !== messaged || named !== text ? { path: client, text: named } : undefined;
}

/**
 * `error` naming the client's message where it names a core message (`param` `messages.N...` or OpenAI's
 * `messages[N]...` or `messages.[N]...`, in the same form, and that path in its text): an engine's 400 about core message 3 is about
 * the client's `messages.2` when a system prompt came before it; and naming the client's field where the client
 * names it otherwise (`names`: core's `toolChoice` is `tool_choice`). The error itself when it names neither, or the
 * same one.
 */
export function withClientMessagePath(error: LLMError, paths: ClientMessagePaths | undefined, names?: ClientFieldNames): LLMError {
  const param = error.param;
  if ((paths === undefined && names === undefined) || param === undefined) return error;
  // Only core's or the gateway's own words are renamed beyond the param: a provider's error text is the upstream's.
  const own = error.upstreamStatus === undefined && !error.code.startsWith('provider_');
  const c = clientNamed(param, error.message, paths, names, own);
  return c ? error.with({ param: c.path, message: c.text }) : error;
}

/**
 * The warnings naming the client's messages and fields (their `field`, and that path in their text), as
 * `withClientMessagePath` does for errors, without those about a field the gateway set itself (`names.gatewaySet`).
 * The same array when nothing changes.
 */
export function withClientWarningPaths(warnings: readonly CallWarning[], paths: ClientMessagePaths | undefined, names?: ClientFieldNames): readonly CallWarning[] {
  if (paths === undefined && names === undefined) return warnings;
  const gatewaySet = names?.gatewaySet;
  let out: CallWarning[] | undefined;
  for (let i = 0; i < warnings.length; i++) {
    const w = warnings[i]!;
    // A warning about a field the gateway set itself (`ClientFieldNames.gatewaySet`) is not shown.
    if (gatewaySet !== undefined && w.field !== undefined && gatewaySet.includes(w.field)) {
      out ??= warnings.slice(0, i);
      continue;
    }
    const c = w.field === undefined ? undefined : clientNamed(w.field, w.message, paths, names, false);
    if (out) out.push(c ? { ...w, field: c.path, message: c.text } : w);
    else if (c) {
      out = warnings.slice(0, i);
      out.push({ ...w, field: c.path, message: c.text });
    }
  }
  return out ?? warnings;
}
