import type { Hono } from 'hono';
import { LLMError, timerDelay } from '@llmrr/core';
import { auditAuthFailure } from '../auth/authenticate.js';
import { secretsEqual } from '../auth/constant-time.js';
import { extractApiKey } from '../auth/extract-key.js';
import { clientIp, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { errorResponse } from '../http/error-body.js';
import type { GatewayRouter, GatewayStores } from '../types.js';

/** Default bound of the default readiness check's store ping (`readyTimeoutMs`), ms. */
export const DEFAULT_READY_TIMEOUT_MS = 5_000;

/**
 * The default readiness check: the router is ready (its `ready()`, when it has one, has resolved: a rejection, such as
 * a strategy's `prepare` that failed, throws until a probe finds it resolved; once it has, it is not asked again),
 * the router has an enabled deployment, and the stores answer their `ping()`
 * when they have one (core's shared-mode stores: Redis and PostgreSQL, each time-bounded), so a process
 * whose every model request would be a 503 `store_unavailable` is not ready. A failed ping throws (`/ready`
 * logs it and answers 503). Probes that arrive while a ping is in flight share it: a busy prober never
 * multiplies the round trips. The shared ping is bounded by `timeoutMs` of its own (a custom `ping` need not
 * be): one whose answer never comes fails the probes sharing it then, and the next probe pings again. A bound past
 * the longest timer (2^31 - 1 ms, about 24.8 days) waits that long.
 */
export function defaultReady(router: GatewayRouter, stores: GatewayStores | undefined, timeoutMs = DEFAULT_READY_TIMEOUT_MS): () => Promise<boolean> {
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new LLMError({ code: 'config_invalid', message: `readyTimeoutMs must be a positive number of ms, got ${String(timeoutMs)}`, param: 'readyTimeoutMs' });
  }
  let pinging: Promise<void> | undefined;
  // The router's `ready()` (core's: its price file loaded, its strategies' files prepared), asked until it has
  // resolved once; then no more (no cost per probe). Rejected (a strategy whose `prepare` failed, a price file
  // missing): `/ready` is 503 while every call would fail with its `config_invalid`, and the next probe asks again.
  let routerReady = router.ready === undefined;
  return async () => {
    if (!routerReady) {
      await bounded(router.ready!(), timeoutMs, () => new LLMError({ code: 'timeout', message: `The router did not get ready (router.ready()) within ${timeoutMs} ms` }));
      routerReady = true;
    }
    if (!router.models().some((d) => d.enabled)) return false;
    const ping = stores?.ping;
    if (!ping) return true;
    pinging ??= bounded(ping.call(stores), timeoutMs).finally(() => {
      pinging = undefined;
    });
    await pinging;
    return true;
  };
}

/** `ping` settled within `timeoutMs`, else `late()` (default: `store_unavailable`). */
function bounded(ping: Promise<void>, timeoutMs: number, late: () => LLMError = () => new LLMError({ code: 'store_unavailable', message: `The stores did not answer their readiness ping within ${timeoutMs} ms` })): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), timerDelay(timeoutMs));
  });
  return Promise.race([ping, cut]).finally(() => clearTimeout(timer));
}

/**
 * `/health` (liveness), `/ready` (readiness), `/metrics` (Prometheus text format; behind `auth.metricsKey` when set:
 * a wrong or missing key is a 401 and an `auth.failure` audit entry with scope `metrics`, when there are stores).
 */
export function registerOpsRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
    // Shutting down (the gateway's `close()`, or the Node server draining): out of rotation, whatever the check says.
    if (deps.closing || c.env?.draining === true) return c.json({ status: 'not_ready', reason: 'shutting down' }, 503);
    let ready = false;
    let reason: string | undefined;
    try {
      ready = await deps.ready();
      if (!ready) reason = 'not ready';
    } catch (e) {
      // The error's text may name hosts, users or connection strings: logged, never sent to the client.
      reason = 'readiness check failed; see the server log for this request id';
      deps.log('readiness check failed', c.get('requestId'), e);
    }
    return c.json(ready ? { status: 'ready' } : { status: 'not_ready', reason }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    if (!deps.metrics) return c.json({ error: { type: 'not_found_error', code: 'not_found', message: 'Metrics are disabled', param: null, request_id: c.get('requestId') } }, 404);
    const key = deps.auth.metricsKey;
    if (key !== undefined) {
      const presented = extractApiKey(c.req.raw.headers);
      if (presented === undefined || !(await secretsEqual(presented, key))) {
        // Audited as a wrong admin key is (scope `metrics`), bounded per source and minute like every auth failure.
        const requestId = c.get('requestId');
        const ip = clientIp(c);
        if (deps.stores) {
          await auditAuthFailure(deps.stores.audit, { reason: presented === undefined ? 'missing_key' : 'wrong_metrics_key', requestId, ...(ip ? { ip } : {}), extra: { scope: 'metrics', path: c.req.path } }, (m, e) => deps.log(m, requestId, e));
        }
        return errorResponse(new LLMError({ code: 'authentication', message: 'Invalid or missing metrics key (send Authorization: Bearer <key>)' }), c.get('requestId'));
      }
    }
    const text = await deps.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': deps.metrics.registry.contentType });
  });
}
