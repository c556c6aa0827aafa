import type { GenerateRequest, LLMError } from '@llmrr/core';

/**
 * Where each message of a converted request came from: entry `i` is the client's message of core message `i`, its
 * index in the client's `messages` or `'system'` (an `/v1/messages` system prompt). A conversion may make several
 * core messages of one client message (a chat system message in segments, `/v1/messages` tool results), so
 * core's indexes are not always the client's.
 */
export type ClientMessagePaths = ReadonlyArray<number | 'system'>;

/** A client body as the core request, and where its messages came from (undefined: one core message per client message, in order). */
export interface ConvertedRequest {
  request: GenerateRequest;
  messagePaths: ClientMessagePaths | undefined;
}

const CORE_PATH = /^messages\.(\d+)(?!\d)/;

/**
 * `error` naming the client's message where it names a core message (`param` `messages.N...`, and `messages.N` in
 * its text): an engine's 400 about core message 3 is about the client's `messages.2` when a system message before
 * it became two. The error itself when it names no message, or the same one.
 */
export function withClientMessagePath(error: LLMError, paths: ClientMessagePaths | undefined): LLMError {
  const param = error.param;
  if (paths === undefined || param === undefined) return error;
  const m = CORE_PATH.exec(param);
  if (!m) return error;
  const from = paths[Number(m[1])];
  const client = from === undefined ? undefined : from === 'system' ? 'system' : `messages.${from}`;
  if (client === undefined || client === m[0]) return error;
  const core = new RegExp(`\\bmessages\\.${m[1]}(?!\\d)`, 'g');
  return error.with({ param: client + param.slice(m[0].length), message: error.message.replace(core, client) });
}
