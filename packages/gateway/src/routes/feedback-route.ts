import { LLMError, toLLMError } from '@llmrr/core';
import type { Hono } from 'hono';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { clientIp, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { jsonResponse } from '../calls/model-call.js';
import { errorResponse, needsServerLog } from '../http/error-body.js';
import { incomingFromRequest } from '../http/incoming.js';
import { readJsonBody } from '../http/read-json-body.js';
import { validateBody } from '../http/validate.js';
import { FeedbackRequestSchema, type FeedbackResponse } from '../schemas/feedback.js';

/**
 * `POST /v1/feedback` `{ request_id, score }`: explicit feedback on an answer, passed to the router's
 * `feedback` (learning strategies update from it). With stores, only for a request the usage ledger
 * records for the caller's own tenant: another tenant's request id (or an unknown one) is a 404, so
 * ids of other tenants are neither scored nor revealed.
 */
export function registerFeedbackRoute(app: Hono<AppEnv>, deps: GatewayDeps): void {
  app.post('/v1/feedback', async (c) => {
    const requestId = c.get('requestId');
    // The demo headers, once the caller is known to be the demo tenant (errors after authentication carry them too).
    const shown: Record<string, string> = {};
    try {
      const principal = await authenticate(c.req.raw.headers, {
        stores: deps.stores,
        auth: deps.auth,
        requestId,
        clientIp: clientIp(c),
        log: (m, e) => deps.log(m, requestId, e),
      });
      demoHeaders(principal, shown);
      const body = validateBody(FeedbackRequestSchema, await readJsonBody(incomingFromRequest(c.req.raw, clientIp(c)), { maxBytes: deps.maxBodyBytes }));
      const feedback = deps.router.feedback?.bind(deps.router);
      if (!feedback) throw new LLMError({ code: 'unsupported', message: "This gateway's router does not take feedback", param: 'request_id' });
      if (deps.stores) {
        const entry = await deps.stores.ledger.get(body.request_id);
        if (!entry || entry.tenantId !== principal.tenantId) {
          throw new LLMError({ code: 'not_found', message: `No request "${body.request_id}" of this tenant`, param: 'request_id' });
        }
      }
      const out: FeedbackResponse = { accepted: feedback(body.request_id, body.score) };
      return jsonResponse(out, requestId, shown);
    } catch (e) {
      const err = toLLMError(e);
      if (needsServerLog(err)) deps.log(`request failed: ${err.code}`, requestId, e);
      return errorResponse(err, requestId, 'openai', shown);
    }
  });
}
