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
      // Not `async`: a request without the header gets the route's own promise (no promise and turns of a wrapper's);
      // anything thrown is still a rejection.
      w = (incoming, requestId, startedAt) => {
        try {
          const clientId = clientRequestIdFrom(incoming.headers);
          if (clientId === undefined) return route(incoming, requestId, startedAt);
          note(requestId, clientId);
          return route(incoming, requestId, startedAt).then((reply) => {
            // Added in place (the reply's headers are its own): a spread that adds a key costs V8 about a microsecond.
            reply.headers[CLIENT_REQUEST_ID_HEADER] = clientId;
            return reply;
          });
        } catch (e) {
          return Promise.reject(e);
        }
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
