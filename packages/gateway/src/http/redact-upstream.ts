/**
 * Upstream (provider) error messages can quote the gateway's own credentials: OpenAI's 401 says
 * "Incorrect API key provided: sk-proj-****Zx9Q", others echo a key prefix or an `Authorization` value.
 * This removes key-like tokens (`sk-...`, `AIza...`, long opaque strings) and everything after the words
 * "API key", "access key", "x-api-key", "Authorization" or "Bearer".
 */
// (A Google API key is `AIza` and 35 characters of [A-Za-z0-9_-], with no separator after `AIza`: a `-` in it would
// cut it into pieces too short for LONG_SECRETISH.)
const KEY_LIKE = /\b(?:(?:sk|pk|rk|ak|key|sess|xai|gsk|hf|ghp|github_pat|AIza)[-_][A-Za-z0-9*._\-]{4,}|AIza[A-Za-z0-9_\-]{20,})/g;
const AFTER_KEY_WORD = /\b(api[\s_-]?key|x-api-key|access[\s_-]?key|authorization|bearer)\b[\s\S]*$/i;
const LONG_SECRETISH = /[A-Za-z0-9*_]{32,}/g;

export const REDACTED = '[redacted]';

/** The message with anything that could be a credential replaced by `[redacted]`. */
export function redactUpstreamMessage(message: string): string {
  return message.replace(AFTER_KEY_WORD, (_m, word: string) => `${word} ${REDACTED}`).replace(KEY_LIKE, REDACTED).replace(LONG_SECRETISH, REDACTED);
}
