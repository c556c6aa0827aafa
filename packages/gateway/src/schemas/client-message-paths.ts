import type { CallWarning, GenerateRequest, LLMError } from '@llmrr/core';

/**
 * Where each message of a converted request came from: entry `i` is the client's message of core message `i`: a
 * number is its index in the client's `messages`; a string is the client's own path of it, e.g. `system` (an
 * `/v1/messages` system prompt), `instructions` or `input.3` (`/v1/responses`, whose messages are `input` items).
 * A conversion may make several core messages of one client message (`/v1/messages` tool results) or one of none
 * (a system prompt comes first; a Responses function call joins the assistant turn before it), so core's indexes
 * are not always the client's.
 */
export type ClientMessagePaths = ReadonlyArray<number | string>;

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

/** A client path ending in an index (`input.3`): its array and index, to write it in OpenAI's bracketed form. */
const INDEXED = /^(.*)\.(\d+)$/;

/** Where a path names a core message: the client's path to put in place of `core` (in the same form), and `core` found in text. */
interface Renaming {
  /** The core prefix as it is in the path (`messages.3`, `messages[3]`). */
  core: string;
  client: string;
  /** Finds the core prefix in a message text (`messages.3` but not `messages.31`). */
  inText: RegExp;
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
  else {
    const indexed = bracketed ? INDEXED.exec(from) : null;
    client = indexed ? `${indexed[1]}${dot}[${indexed[2]}]` : from;
  }
  if (client === m[0]) return undefined;
  const inText = bracketed ? new RegExp(`\\bmessages${dot === '' ? '' : '\\.'}\\[${index}\\]`, 'g') : new RegExp(`\\bmessages\\.${index}(?!\\d)`, 'g');
  return { core: m[0], client, inText };
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
  return error.with({ param: r.client + param.slice(r.core.length), message: error.message.replace(r.inText, r.client) });
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
    out[i] = { ...w, field: r.client + w.field!.slice(r.core.length), message: w.message.replace(r.inText, r.client) };
  }
  return out ?? warnings;
}
