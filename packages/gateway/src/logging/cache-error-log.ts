import type { LLMErrorCode, RouterEvents } from '@llmrr/core';
import { redactUpstreamMessage } from '../http/redact-upstream.js';
import type { GatewayLogEntry, GatewayRouter } from '../types.js';

/** How long a kind of cache failure that goes on stays out of the log after its entry (ms): then one entry counts them. */
export const CACHE_ERROR_LOG_INTERVAL_MS = 60_000;
/** Longest error message quoted in an entry (characters): a failure's cause, not whatever a peer sent back. */
const MAX_MESSAGE_CHARS = 300;
/**
 * Request ids a gateway remembers having issued while its router is shared with another gateway (the newest; a cache
 * failure is met during its call or just after it): a failure whose id is older than that goes to the first gateway's log.
 */
const MAX_TRACKED_IDS = 4096;
/**
 * Codes of a cache's own failures (its store, its build), whose message says what failed and quotes no request: an
 * error from a model call (the semantic cache's embedding or guard call, as a provider's 400 may quote its input) is
 * logged by code, provider and status only.
 */
const STORE_CODES: ReadonlySet<LLMErrorCode> = new Set<LLMErrorCode>(['internal', 'store_unavailable', 'engine_unavailable', 'timeout', 'shutting_down', 'config_invalid']);

type CacheErrorKind = RouterEvents['cache:error']['kind'];
type CacheErrorEvent = RouterEvents['cache:error'];

const WHAT: Record<CacheErrorKind, string> = {
  exact: 'exact cache',
  semantic: 'semantic cache',
  affinity: 'prompt-cache affinity store',
};

/** One gateway's log of its router's cache failures (see `logCacheErrors`). */
export interface CacheErrorLog {
  /** The gateway's request id generator, remembering the ids it issues while the router is shared with another gateway. */
  ids(generate: () => string): () => string;
  /** Stops logging; a kind with failures left out since its last entry gets a last entry counting them. Idempotent. */
  close(): void;
}

/** The gateways logging one router's cache failures, in the order they started (the first logs those of no gateway). */
class RouterCacheLogs {
  readonly logs: GatewayCacheLog[] = [];
  readonly unsubscribe: () => void;

  constructor(router: GatewayRouter & Required<Pick<GatewayRouter, 'on'>>) {
    this.unsubscribe = router.on('cache:error', (e) => this.dispatch(e));
  }

  dispatch(e: CacheErrorEvent): void {
    const logs = this.logs;
    let to = logs[0];
    if (e.requestId !== undefined && logs.length > 1) {
      for (const log of logs) {
        if (log.issued(e.requestId)) {
          to = log;
          break;
        }
      }
    }
    to?.write(e);
  }

  /** Gateways remember the ids they issue only while more than one logs this router. */
  shared(): void {
    const tracking = this.logs.length > 1;
    for (const log of this.logs) log.track(tracking);
  }
}

const byRouter = new WeakMap<GatewayRouter, RouterCacheLogs>();

class GatewayCacheLog {
  readonly #last = new Map<CacheErrorKind, { at: number; skipped: number }>();
  /** While tracking: the ids issued, the newest MAX_TRACKED_IDS (`#ring` holds them in order, `#next` the oldest's slot). */
  #ids: Set<string> | undefined;
  #ring: string[] = [];
  #next = 0;

  constructor(
    private readonly log: (entry: GatewayLogEntry) => void,
    private readonly now: () => number,
  ) {}

  track(on: boolean): void {
    if (on === (this.#ids !== undefined)) return;
    this.#ids = on ? new Set() : undefined;
    this.#ring = [];
    this.#next = 0;
  }

  issue(id: string): void {
    const ids = this.#ids;
    if (ids === undefined) return;
    if (this.#ring.length < MAX_TRACKED_IDS) {
      this.#ring.push(id);
    } else {
      ids.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = id;
      this.#next = (this.#next + 1) % MAX_TRACKED_IDS;
    }
    ids.add(id);
  }

  issued(id: string): boolean {
    return this.#ids?.has(id) === true;
  }

  write(e: CacheErrorEvent): void {
    const t = this.now();
    const seen = this.#last.get(e.kind);
    // (A clock set back, `t` before the last entry: the interval is taken as over.)
    if (seen && t >= seen.at && t - seen.at < CACHE_ERROR_LOG_INTERVAL_MS) {
      seen.skipped++;
      return;
    }
    const repeated = seen?.skipped ?? 0;
    this.#last.set(e.kind, { at: t, skipped: 0 });
    const error = e.error;
    const more = repeated > 0 ? `; ${repeated} more failure(s) not logged since its last entry` : '';
    this.log({
      level: 'warn',
      message: `${what(e.kind)} failed (calls go on without it${more}): ${describe(error)}`,
      ...(e.requestId !== undefined ? { requestId: e.requestId } : {}),
      cacheKind: e.kind,
      code: error.code,
      ...(error.provider !== undefined ? { provider: error.provider } : {}),
      ...(error.upstreamStatus !== undefined ? { status: error.upstreamStatus } : {}),
      ...(repeated > 0 ? { repeated } : {}),
    });
  }

  /** The failures left out since each kind's last entry, in one last entry per kind (at close). */
  flush(): void {
    for (const [kind, seen] of this.#last) {
      if (seen.skipped === 0) continue;
      const repeated = seen.skipped;
      seen.skipped = 0;
      this.log({ level: 'warn', message: `${what(kind)} failed ${repeated} more time(s) not logged since its last entry (calls went on without it)`, cacheKind: kind, repeated });
    }
  }
}

function what(kind: CacheErrorKind): string {
  return WHAT[kind] ?? `${String(kind)} cache`;
}

/**
 * What an entry says of the error: its code, and for a cache's own failure (`STORE_CODES`, no provider) its message
 * (credentials redacted as in error bodies, cut at MAX_MESSAGE_CHARS); for a model call's only its provider and status.
 */
function describe(error: CacheErrorEvent['error']): string {
  if (error.provider !== undefined || error.upstreamStatus !== undefined || !STORE_CODES.has(error.code)) {
    const from = [error.provider !== undefined ? `provider ${error.provider}` : '', error.upstreamStatus !== undefined ? `status ${error.upstreamStatus}` : ''].filter(Boolean).join(', ');
    return from ? `${error.code} (${from})` : error.code;
  }
  const text = redactUpstreamMessage(error.message);
  return `${error.code}: ${text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}...` : text}`;
}

/**
 * Logs the router's `cache:error` events (a cache store that fails, a semantic cache that cannot be built, a failed
 * embedding or guard call of the semantic cache: each call then goes on as a miss) at level `warn`: the first of each
 * kind (`exact`, `semantic`, `affinity`) at once, then at most one entry per kind every `CACHE_ERROR_LOG_INTERVAL_MS`,
 * saying how many were not logged since the last one (`repeated`; those left out in the last interval get an entry at
 * `close`). An entry names the kind (`cacheKind`), the error's `code` and the request id when the failure was a call's;
 * for a cache's own failure (its store, its build) the message too (credentials redacted as in error bodies, cut at 300
 * characters); for a model call's (`provider` set) only `provider` and `status`: a provider's error may quote the input.
 * Never the request itself.
 *
 * A router shared by several gateways is subscribed once: each failure is logged once, by the gateway that issued
 * its request id, else (no request id, or one no gateway remembers) by the first of them still open.
 */
export function logCacheErrors(router: GatewayRouter, log: (entry: GatewayLogEntry) => void, now: () => number): CacheErrorLog {
  if (!router.on) return { ids: (generate) => generate, close: () => {} };
  let logs = byRouter.get(router);
  if (!logs) byRouter.set(router, (logs = new RouterCacheLogs(router as GatewayRouter & Required<Pick<GatewayRouter, 'on'>>)));
  const shared = logs;
  const mine = new GatewayCacheLog(log, now);
  shared.logs.push(mine);
  shared.shared();
  let closed = false;
  return {
    ids: (generate) => () => {
      const id = generate();
      mine.issue(id);
      return id;
    },
    close: () => {
      if (closed) return;
      closed = true;
      const i = shared.logs.indexOf(mine);
      if (i >= 0) shared.logs.splice(i, 1);
      if (shared.logs.length === 0) {
        shared.unsubscribe();
        byRouter.delete(router);
      } else {
        shared.shared();
      }
      mine.flush();
    },
  };
}
