import type { GenerateRequest, LLMError } from '@llmrr/core';

/**
 * Where each message of a converted request came from: entry `i` is the client's message of core message `i`, its
 * index in the client's `messages` or `'system'` (an `/v1/messages` system prompt). A conversion may make several
 * core messages of one client message (`/v1/messages` tool results) or one of none (its system prompt comes first),
 * so core's indexes are not always the client's.
 */
export type ClientMessagePaths = ReadonlyArray<number | 'system'>;

/** A client body as the core request, and where its messages came from (undefined: one core message per client message, in order). */
export interface ConvertedRequest {
  request: GenerateRequest;
  messagePaths: ClientMessagePaths | undefined;
}

/**
 * `messages.N` (core's own errors), `messages[N]` (OpenAI's `param` today) or `messages.[N]` (OpenAI's older form,
 * and compatible servers'), passed through by the OpenAI-compatible engine.
 */
const CORE_PATH = /^messages(?:\.(\d+)(?!\d)|(\.?)\[(\d+)\])/;

/**
 * `error` naming the client's message where it names a core message (`param` `messages.N...` or OpenAI's
 * `messages[N]...` or `messages.[N]...`, in the same form, and that path in its text): an engine's 400 about core message 3 is about
 * the client's `messages.2` when a system prompt came before it. The error itself when it names no message, or the
 * same one.
 */
export function withClientMessagePath(error: LLMError, paths: ClientMessagePaths | undefined): LLMError {
  const param = error.param;
  if (paths === undefined || param === undefined) return error;
  const m = CORE_PATH.exec(param);
  if (!m) return error;
  const bracketed = m[3] !== undefined;
  const dot = m[2] ?? '';
  const index = (m[1] ?? m[3])!;
  const from = paths[Number(index)];
  const client = from === undefined ? undefined : from === 'system' ? 'system' : bracketed ? `messages${dot}[${from}]` : `messages.${from}`;
  if (client === undefined || client === m[0]) return error;
  const core = bracketed
    ? new RegExp(`\\bmessages${dot === '' ? '' : '\\.'}\\[${index}\\]`, 'g')
    : new RegExp(`\\bmessages\\.${index}(?!\\d)`, 'g');
  return error.with({ param: client + param.slice(m[0].length), message: error.message.replace(core, client) });
}
