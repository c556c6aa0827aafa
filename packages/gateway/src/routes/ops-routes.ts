import type { Hono } from 'hono';
import { LLMError } from '@llmrr/core';
import { secretsEqual } from '../auth/constant-time.js';
import { extractApiKey } from '../auth/extract-key.js';
import type { AppEnv, GatewayDeps } from '../calls/context.js';
import { errorResponse } from '../http/error-body.js';

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
