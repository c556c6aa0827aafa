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

/**
 * The gateway's provider account ids, in any upstream message (OpenAI's 403 "Project `proj_...` does not have access to
 * model ..." is not a rate limit): OpenAI's `org-...` and `proj_...`, Groq's `org_...`, Google's project numbers. Only
 * as whole words (a model named `acme-org-Llama3` keeps its name); UUIDs are left (a client's own `tool_call_id`).
 */
const ACCOUNT_ID = /(?<![A-Za-z0-9_-])(?:org-[A-Za-z0-9]{16,}|org_[a-z0-9]{20,}|proj_[A-Za-z0-9]{16,}|project_number:\d+|projects\/\d{6,})/g;

/** The message with anything that could be a credential, or an id of the gateway's provider account, replaced by `[redacted]`. */
export function redactUpstreamMessage(message: string): string {
  return message.replace(AFTER_KEY_WORD, (_m, word: string) => `${word} ${REDACTED}`).replace(KEY_LIKE, REDACTED).replace(ACCOUNT_ID, REDACTED).replace(LONG_SECRETISH, REDACTED);
}

/**
 * A provider's "rate limit" error for a request that can never fit the limit (OpenAI's 429 "Request too large for
 * <model> ... Limit 30000, Requested 45000. The input or output tokens must be reduced", Groq's 413
 * `rate_limit_exceeded` "Request too large ... reduce your message size"): waiting does not help.
 */
const REQUEST_TOO_LARGE = /\brequest too large\b|\bmust be reduced\b|\breduce your message size\b/i;
const REQUESTED_FIGURE = /\brequested:?\s+(\d[\d,]*)/i;

/** Whether a provider's rate-limit message says the request itself exceeds the limit (`REQUEST_TOO_LARGE`). */
export function requestTooLarge(providerMessage: string): boolean {
  return REQUEST_TOO_LARGE.test(providerMessage);
}

/**
 * A provider's rate-limit or quota message names the gateway's account and its use, which on a shared deployment sum
 * every tenant's traffic: OpenAI's 429 says "Rate limit reached for <model> in organization org-... on tokens per min
 * (TPM): Limit 200000, Used 199500, Requested 1200. Please try again in 210ms." (Used follows from Limit, Requested
 * and the wait), Groq's names `org_...`, Anthropic's a UUID, Google's `project_number:NNN`, others say `current: N`.
 * No redaction of such text is complete, so on a shared deployment the gateway says it in its own words instead
 * (`sharedRateLimitMessage`): the kind of limit when the provider names it, the limit, and the wait in whole seconds
 * rounded up (the `retry-after` the gateway sends) - no account id, no use, no requested figure.
 */
const LIMIT_KIND = /\b(requests?|(?:input |output )?tokens?)\s+per\s+(min(?:ute)?|day|hour|second|sec)\b|\b(RPM|RPD|TPM|TPD|ITPM|OTPM|RPH|TPH)\b/i;
const ABBREVIATED: Record<string, string> = {
  RPM: 'requests per minute',
  RPD: 'requests per day',
  RPH: 'requests per hour',
  TPM: 'tokens per minute',
  TPD: 'tokens per day',
  TPH: 'tokens per hour',
  ITPM: 'input tokens per minute',
  OTPM: 'output tokens per minute',
};
/** `Limit 30000`, `limit: 1500000`, or Anthropic's `... limit ... of 80,000 input tokens`. */
const LIMIT_FIGURE = /\blimit:?\s+(\d[\d,]*)|\bof\s+(\d[\d,]*)\s+(?:input |output )?(?:tokens|requests)\b/i;
/** OpenAI's and Groq's `Please try again in 644ms` / `11.455s` / `1m30s`. */
const TRY_AGAIN = /\btry again in\s+((?:\d+(?:\.\d+)?(?:ms|s|m|h)\s*)+)/i;
const WAIT_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The wait a provider's rate-limit message asks for (`try again in ...`), in ms; undefined when it names none. */
export function upstreamWaitMs(message: string): number | undefined {
  const m = TRY_AGAIN.exec(message);
  if (!m) return undefined;
  let ms = 0;
  for (const part of m[1]!.matchAll(WAIT_PART)) ms += Number(part[1]) * UNIT_MS[part[2]!.toLowerCase()]!;
  return Number.isFinite(ms) ? ms : undefined;
}

/** `requests per minute`, `input tokens per day`...: the kind of limit the provider's message names, if any. */
function limitKind(message: string): string | undefined {
  const kind = LIMIT_KIND.exec(message);
  if (!kind) return undefined;
  if (kind[3] !== undefined) return ABBREVIATED[kind[3].toUpperCase()];
  const unit = kind[2]!.toLowerCase();
  const per = unit.startsWith('min') ? 'minute' : unit.startsWith('sec') ? 'second' : unit;
  return `${kind[1]!.toLowerCase().replace(/s?$/, 's')} per ${per}`;
}

/**
 * The gateway's own wording of a provider's rate-limit or quota error on a shared deployment: `retryAfterMs` is the
 * wait it states (the error's own, else the message's), shown as the `retry-after` header shows it (whole seconds,
 * at least 1).
 */
export function sharedRateLimitMessage(providerMessage: string, retryAfterMs: number | undefined): string {
  const what = limitKind(providerMessage);
  const figure = LIMIT_FIGURE.exec(providerMessage);
  const limit = figure ? (figure[1] ?? figure[2])!.replace(/,/g, '') : undefined;
  if (requestTooLarge(providerMessage)) {
    // The request's own size (its requested figure is its own, not the account's use): no wait helps.
    const requested = REQUESTED_FIGURE.exec(providerMessage)?.[1]?.replace(/,/g, '');
    const sizes = [what, limit !== undefined ? `limit ${limit}` : undefined, requested !== undefined ? `requested ${requested}` : undefined].filter((p) => p !== undefined);
    return `The request is larger than the upstream provider's rate limit for this model allows${sizes.length > 0 ? ` (${sizes.join(', ')})` : ''}; reduce its input or max output tokens.`;
  }
  const parts = [what, limit !== undefined ? `limit ${limit}` : undefined].filter((p) => p !== undefined);
  let message = "The upstream provider's rate limit for this model was reached";
  if (parts.length > 0) message += ` (${parts.join(', ')})`;
  if (retryAfterMs !== undefined) message += `; try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))}s`;
  return `${message}.`;
}
