import type { ErrorStyle } from '../http/error-body.js';

/** The header every Anthropic client sends (the official SDKs, Claude Code). */
const ANTHROPIC_VERSION_HEADER = 'anthropic-version';

/**
 * The error shape of a request the routes did not answer (a 404, a 405, an unhandled error): Anthropic's for a path of
 * the Messages API (`/v1/messages` and below, such as the Message Batches API the gateway does not serve) and for any
 * request carrying `anthropic-version`, so an Anthropic client reads it as it reads `/v1/messages`' own errors;
 * OpenAI's otherwise.
 */
export function requestErrorStyle(path: string, headers: Headers): ErrorStyle {
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) return 'anthropic';
  return headers.has(ANTHROPIC_VERSION_HEADER) ? 'anthropic' : 'openai';
}
