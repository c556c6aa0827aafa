import type { RouterEvents } from '@llmrr/core';
import { redactUpstreamMessage } from '../http/redact-upstream.js';
import type { GatewayLogEntry, GatewayRouter } from '../types.js';

/** How long a kind of cache failure that goes on stays out of the log after its entry (ms): then one entry counts them. */
export const CACHE_ERROR_LOG_INTERVAL_MS = 60_000;
/** Longest error message quoted in an entry (characters): a failure's cause, not whatever a peer sent back. */
const MAX_MESSAGE_CHARS = 300;

type CacheErrorKind = RouterEvents['cache:error']['kind'];

const WHAT: Record<CacheErrorKind, string> = {
  exact: 'exact cache',
  semantic: 'semantic cache',
  affinity: 'prompt-cache affinity store',
};

/**
 * Logs the router's `cache:error` events (a cache store that fails, a semantic cache that cannot be built: each call
 * then goes on as a miss) at level `warn`: the first of each kind (`exact`, `semantic`, `affinity`) at once, then at
 * most one entry per kind every `CACHE_ERROR_LOG_INTERVAL_MS`, saying how many were not logged since the last one
 * (`repeated`). An entry names the kind (`cacheKind`), the error's `code` and its message (credentials redacted as in
 * error bodies, cut at 300 characters), and the request id when the failure was a call's; never the request itself.
 * Returns the unsubscribe function (nothing to undo for a router without events).
 */
export function logCacheErrors(router: GatewayRouter, log: (entry: GatewayLogEntry) => void, now: () => number): () => void {
  if (!router.on) return () => {};
  const last = new Map<CacheErrorKind, { at: number; skipped: number }>();
  return router.on('cache:error', (e) => {
    const t = now();
    const seen = last.get(e.kind);
    if (seen && t - seen.at < CACHE_ERROR_LOG_INTERVAL_MS) {
      seen.skipped++;
      return;
    }
    const repeated = seen?.skipped ?? 0;
    last.set(e.kind, { at: t, skipped: 0 });
    const text = redactUpstreamMessage(e.error.message);
    const message = text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}...` : text;
    const more = repeated > 0 ? `; ${repeated} more failure(s) not logged since its last entry` : '';
    log({
      level: 'warn',
      message: `${WHAT[e.kind] ?? `${String(e.kind)} cache`} failed (calls go on without it${more}): ${e.error.code}: ${message}`,
      ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
      cacheKind: e.kind,
      code: e.error.code,
      ...(repeated > 0 ? { repeated } : {}),
    });
  });
}
