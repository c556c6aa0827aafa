/**
 * Upstream (provider) error messages can quote the gateway's own credentials: OpenAI's 401 says
 * "Incorrect API key provided: sk-proj-****Zx9Q", others echo a key prefix or an `Authorization` value.
 * This removes key-like tokens (`sk-...`, `AIza...`, long opaque strings) and everything after the words
 * "API key", "access key", "x-api-key", "Authorization" or "Bearer".
 * They also name the gateway's provider account and its use, which a shared deployment's account sums over every
 * tenant: OpenAI's 429 says "Rate limit reached for <model> in organization org-... on tokens per min (TPM): Limit
 * 200000, Used 199500, Requested 1200", Anthropic's "...the rate limit for your organization (<uuid>) of ...". So
 * organization and project ids (`org-...`, `proj_...`, a UUID) and the figure after "Used" are redacted too (the
 * limit and this request's own figure stay: they tell the client what it may retry with).
 */
// (A Google API key is `AIza` and 35 characters of [A-Za-z0-9_-], with no separator after `AIza`: a `-` in it would
// cut it into pieces too short for LONG_SECRETISH.)
const KEY_LIKE = /\b(?:(?:sk|pk|rk|ak|key|sess|xai|gsk|hf|ghp|github_pat|AIza)[-_][A-Za-z0-9*._\-]{4,}|AIza[A-Za-z0-9_\-]{20,})/g;
const AFTER_KEY_WORD = /\b(api[\s_-]?key|x-api-key|access[\s_-]?key|authorization|bearer)\b[\s\S]*$/i;
const LONG_SECRETISH = /[A-Za-z0-9*_]{32,}/g;
const ACCOUNT_ID = /\b(?:org-[A-Za-z0-9]{8,}|proj_[A-Za-z0-9]{8,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b/g;
/** The account's use so far in a provider's rate-limit message (`Used 199500`, `Used: 5`): every tenant's traffic. */
const ACCOUNT_USE = /\bUsed(:?\s*)\d+(?:[.,]\d+)*/g;

export const REDACTED = '[redacted]';

/** The message with anything that could be a credential, an account id or the account's use replaced by `[redacted]`. */
export function redactUpstreamMessage(message: string): string {
  return message
    .replace(AFTER_KEY_WORD, (_m, word: string) => `${word} ${REDACTED}`)
    .replace(KEY_LIKE, REDACTED)
    .replace(LONG_SECRETISH, REDACTED)
    .replace(ACCOUNT_ID, REDACTED)
    .replace(ACCOUNT_USE, (_m, sep: string) => `Used${sep}${REDACTED}`);
}
