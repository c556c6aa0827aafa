import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../types.js';

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

/** Serves a gateway over node:http (through `@hono/node-server`), passing the client address on. */
export async function serveGateway(gateway: Gateway, options: ServeOptions = {}): Promise<ServedGateway> {
  const host = options.host ?? '127.0.0.1';
  const server = createAdaptorServer({
    fetch: (request, env) => gateway.fetch(request, { ...(env.incoming.socket.remoteAddress ? { clientIp: env.incoming.socket.remoteAddress } : {}) }),
    hostname: host,
  }) as Server;
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
