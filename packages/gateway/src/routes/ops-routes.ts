import type { Hono } from 'hono';
import { LLMError } from '@llmrr/core';
import { secretsEqual } from '../auth/constant-time.js';
import { extractApiKey } from '../auth/extract-key.js';
import type { AppEnv, GatewayDeps } from '../calls/context.js';
import { errorResponse } from '../http/error-body.js';
import type { GatewayRouter, GatewayStores } from '../types.js';

/**
 * The default readiness check: the router has an enabled deployment, and the stores answer their `ping()`
 * when they have one (core's shared-mode stores: Redis and PostgreSQL, each time-bounded), so a process
 * whose every model request would be a 503 `store_unavailable` is not ready. A failed ping throws (`/ready`
 * logs it and answers 503). Probes that arrive while a ping is in flight share it: a busy prober never
 * multiplies the round trips.
 */
export function defaultReady(router: GatewayRouter, stores: GatewayStores | undefined): () => Promise<boolean> {
  let pinging: Promise<void> | undefined;
  return async () => {
    if (!router.models().some((d) => d.enabled)) return false;
    if (!stores?.ping) return true;
    pinging ??= stores.ping().finally(() => {
      pinging = undefined;
    });
    await pinging;
    return true;
  };
}

/** `/health` (liveness), `/ready` (readiness), `/metrics` (Prometheus text format; behind `auth.metricsKey` when set). */
export function registerOpsRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
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
        return errorResponse(new LLMError({ code: 'authentication', message: 'Invalid or missing metrics key (send Authorization: Bearer <key>)' }), c.get('requestId'));
      }
    }
    const text = await deps.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': deps.metrics.registry.contentType });
  });
}
