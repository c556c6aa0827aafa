/**
 * A plain node:http server on 127.0.0.1 for a test (an image host, a hand-written provider double), started on a free
 * port and closed with its connections (test-only: `*.test-helpers.ts` is left out of the build).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started loopback server: its address, and a `close()` that also ends the connections still open. */
export interface LoopbackHttp {
  /** The node:http server, for a test that watches its connections. */
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** Ends every open connection (hanging responses too) and waits for the server to close. */
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1 on a port the system picks; rejects when it cannot listen. */
export async function startLoopbackHttp(handler: RequestListener): Promise<LoopbackHttp> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
