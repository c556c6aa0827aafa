/**
 * The longest wait a provider's `Retry-After` (or `retry-after-ms`, or Gemini's `retryDelay`) is taken for: one day
 * (86 400 000 ms). A longer one (`Retry-After: 99999999999`) counts as that: the router never waits longer (and only
 * up to `retries.maxRetryAfterMs` in any case), every wait stays within a timer's 2^31 - 1 ms, and the gateway never
 * passes a longer provider wait on to a client. Not a bound on the waits of our own limits (a rate limit's token
 * debt, every deployment at its limits): those are told as they are.
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/** A provider's wait (ms) within 0..MAX_RETRY_AFTER_MS; undefined for anything else than a number >= 0. */
export function clampRetryAfterMs(ms: number | undefined): number | undefined {
  if (ms === undefined || Number.isNaN(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** delay-seconds (RFC 9110: digits; a fraction is taken too, as some servers send one). */
const SECONDS = /^\d+(?:\.\d+)?$/;
/** The three HTTP-date forms (RFC 9110 5.6.7): IMF-fixdate, obsolete RFC 850, asctime. */
const HTTP_DATE = /^(?:[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/**
 * Milliseconds to wait from a `Retry-After` (seconds or HTTP date) or `retry-after-ms` header, at most
 * `MAX_RETRY_AFTER_MS` (a date in the past is 0). Undefined when absent or not of those forms (negative, `0x10`,
 * `1e3`, `soon`).
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms !== undefined && SECONDS.test(ms)) return clampRetryAfterMs(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (SECONDS.test(value)) return clampRetryAfterMs(Number(value) * 1000);
  if (!HTTP_DATE.test(value)) return undefined;
  // asctime has no zone: it is GMT too.
  const date = Date.parse(value.endsWith('GMT') ? value : `${value} GMT`);
  if (Number.isNaN(date)) return undefined;
  return clampRetryAfterMs(Math.max(0, date - now));
}
