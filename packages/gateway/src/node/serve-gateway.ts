import { getRequestListener } from '@hono/node-server';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelRoute } from '../calls/model-route.js';
import { directRoutesOf, type DirectRoutes } from '../http/direct-routes.js';
import { errorReply } from '../http/error-body.js';
import type { Gateway } from '../types.js';
import { NodeIncoming } from './node-incoming.js';
import { writeReply } from './write-reply.js';

export interface ServeOptions {
  /** Default 3006; `0` picks a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
}

export interface ServedGateway {
  server: Server;
  port: number;
  host: string;
  /** `http://host:port`. */
  url: string;
  /**
   * Stops accepting connections, lets requests in flight finish for up to `graceMs` (default 10 s),
   * then closes what is left. Resolves when the server is closed.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * Serves a gateway over node:http. The model endpoints (`DirectRoutes`) are served straight from the
 * Node request and response, without web `Request`/`Response` objects; every other request goes through
 * `gateway.fetch` via `@hono/node-server`, with the client address passed on.
 */
export async function serveGateway(gateway: Gateway, options: ServeOptions = {}): Promise<ServedGateway> {
  const host = options.host ?? '127.0.0.1';
  // Not overriding the global Request/Response: the lightweight ones would wrap every Response the
  // process makes (the router's upstream answers too) and build the real one on first use.
  const viaFetch = getRequestListener(
    (request, env) => gateway.fetch(request, env.incoming.socket.remoteAddress ? { clientIp: env.incoming.socket.remoteAddress } : {}),
    { hostname: host, overrideGlobalObjects: false },
  );
  const direct = directRoutesOf(gateway);
  const server = createServer((req, res) => {
    const route = direct ? directRoute(direct, req) : undefined;
    if (direct && route) serveDirect(direct, route, req, res);
    else void viaFetch(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3006, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    host,
    url: `http://${urlHost}:${port}`,
    close(graceMs = 10_000) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function directRoute(direct: DirectRoutes, req: IncomingMessage): ModelRoute | undefined {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return direct.route(req.method ?? 'GET', q < 0 ? url : url.slice(0, q), req.headers.origin);
}

function serveDirect(direct: DirectRoutes, route: ModelRoute, req: IncomingMessage, res: ServerResponse): void {
  const incoming = new NodeIncoming(req, res);
  const requestId = direct.requestId(incoming.headers);
  route(incoming, requestId, direct.now()).then(
    (reply) => writeReply(reply, req, res),
    // Routes answer their own errors; this is the last resort.
    (e: unknown) => {
      if (!res.headersSent) writeReply(errorReply(e, requestId), req, res);
      else res.destroy();
    },
  );
}
