import { LLMError, toLLMError } from '@llmrr/core';
import type { Hono } from 'hono';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { clientIp, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { jsonResponse } from '../calls/model-call.js';
import { errorResponse, needsServerLog } from '../http/error-body.js';
import { FEEDBACK_ID_HINT, requestIdsOfAnswerId } from '../http/request-id.js';
import { incomingFromRequest } from '../http/incoming.js';
import { readJsonBody } from '../http/read-json-body.js';
import { validateBody } from '../http/validate.js';
import { FEEDBACK_NOT_PENDING, FeedbackRequestSchema, type FeedbackResponse } from '../schemas/feedback.js';

/**
 * `POST /v1/feedback` `{ request_id, score }`: explicit feedback on an answer, passed to the router's
 * `feedback` (learning strategies update from it). `request_id` is the answer's `x-request-id` or the id the SDK
 * returns (`chatcmpl-...`, `cmpl-...`, `msg_...`, `resp_...`: `requestIdsOfAnswerId`). With stores, only for a request the usage ledger
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
      const body = validateBody(FeedbackRequestSchema, await readJsonBody(incomingFromRequest(c.req.raw, clientIp(c)), deps.bodyRead));
      const feedback = deps.router.feedback?.bind(deps.router);
      if (!feedback) throw new LLMError({ code: 'unsupported', message: "This gateway's router does not take feedback", param: 'request_id' });
      const ids = requestIdsOfAnswerId(body.request_id);
      let accepted = false;
      if (deps.stores) {
        let found: string | undefined;
        for (const id of ids) {
          const entry = await deps.stores.ledger.get(id);
          if (entry && entry.tenantId === principal.tenantId) {
            found = id;
            break;
          }
        }
        if (found === undefined) {
          throw new LLMError({ code: 'not_found', message: `No request "${body.request_id}" of this tenant (${FEEDBACK_ID_HINT})`, param: 'request_id' });
        }
        accepted = feedback(found, body.score);
      } else {
        // No ledger to look the id up in: the first id the router knows takes the score.
        for (const id of ids) if ((accepted = feedback(id, body.score))) break;
      }
      const out: FeedbackResponse = accepted ? { accepted } : FEEDBACK_NOT_PENDING;
      return jsonResponse(out, requestId, shown);
    } catch (e) {
      const err = toLLMError(e);
      if (needsServerLog(err)) deps.log(`request failed: ${err.code}`, requestId, e);
      return errorResponse(err, requestId, 'openai', shown);
    }
  });
}
