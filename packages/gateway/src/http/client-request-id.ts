import type { ModelRoute, ModelRoutes } from '../calls/model-route.js';
import { CLIENT_REQUEST_ID_HEADER, clientRequestIdFrom } from './request-id.js';

/**
 * The direct (Node fast path) model routes, each echoing a valid client `x-request-id` back as
 * `x-client-request-id` and reporting it to `note` (the Hono middleware does the same for `fetch`).
 * A live view of `routes`: routes registered later are wrapped too.
 */
export function echoClientRequestId(routes: ModelRoutes, note: (requestId: string, clientRequestId: string) => void): Pick<ModelRoutes, 'get'> {
  const wrapped = new Map<ModelRoute, ModelRoute>();
  const wrap = (route: ModelRoute): ModelRoute => {
    let w = wrapped.get(route);
    if (!w) {
      w = async (incoming, requestId, startedAt) => {
        const clientId = clientRequestIdFrom(incoming.headers);
        if (clientId === undefined) return route(incoming, requestId, startedAt);
        note(requestId, clientId);
        const reply = await route(incoming, requestId, startedAt);
        // Added in place (the reply's headers are its own): a spread that adds a key costs V8 about a microsecond.
        reply.headers[CLIENT_REQUEST_ID_HEADER] = clientId;
        return reply;
      };
      wrapped.set(route, w);
    }
    return w;
  };
  return {
    get: (path: string) => {
      const route = routes.get(path);
      return route && wrap(route);
    },
  };
}
