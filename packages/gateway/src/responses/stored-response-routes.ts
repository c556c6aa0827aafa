import type { Hono } from 'hono';
import { LLMError } from '@llmrr/core';
import type { AppEnv } from '../calls/context.js';
import { errorResponse } from '../http/error-body.js';

/** The last segment of `POST /v1/responses/input_tokens`. */
const INPUT_TOKENS = 'input_tokens';

/** What the stored-response calls are told: the gateway keeps no responses (as `previous_response_id`'s 400 says). */
const NOT_KEPT = 'the gateway keeps no responses, so none can be retrieved, deleted, cancelled or listed; send the whole conversation as input';

/**
 * OpenAI's calls on a stored response (`GET` and `DELETE /v1/responses/{id}`, `POST /v1/responses/{id}/cancel`,
 * `GET /v1/responses/{id}/input_items`): a 404 `not_found` (param `response_id`) saying that the gateway stores no
 * responses, rather than the catch-all "No route for ...", which reads as a wrong base URL. No key is checked:
 * the answer is the same for every caller and tells nothing.
 */
export function registerStoredResponseRoutes(app: Hono<AppEnv>): void {
  const notKept = (id: string, requestId: string) =>
    errorResponse(new LLMError({ code: 'not_found', message: `Response ${id} not found: ${NOT_KEPT}.`, param: 'response_id' }), requestId);
  // `input_tokens` is no response id but the count endpoint (POST only): other methods on it are its 405.
  app.on(['GET', 'DELETE'], '/v1/responses/:id', async (c, next) => {
    const id = c.req.param('id');
    if (id === INPUT_TOKENS) return next();
    return notKept(id, c.get('requestId'));
  });
  app.post('/v1/responses/:id/cancel', (c) => notKept(c.req.param('id'), c.get('requestId')));
  app.get('/v1/responses/:id/input_items', (c) => notKept(c.req.param('id'), c.get('requestId')));
}
