import type { Hono } from 'hono';
import type { AppEnv, GatewayDeps } from '../calls/context.js';

/** `/health` (liveness), `/ready` (readiness), `/metrics` (Prometheus text format). */
export function registerOpsRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
    let ready = false;
    let reason: string | undefined;
    try {
      ready = await deps.ready();
      if (!ready) reason = 'not ready';
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
    return c.json(ready ? { status: 'ready' } : { status: 'not_ready', reason }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    if (!deps.metrics) return c.json({ error: { type: 'not_found_error', code: 'not_found', message: 'Metrics are disabled', param: null, request_id: c.get('requestId') } }, 404);
    const text = await deps.metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': deps.metrics.registry.contentType });
  });
}
