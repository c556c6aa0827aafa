import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A raw node:http upstream on loopback, for what a provider's wire gets wrong (shapes, broken streams, redirects): each
 * request's body is read whole and handed with the request and the response to `handle`, which a test replaces as it
 * goes. `close()` destroys the open connections first (a held or half-sent answer would keep `server.close` waiting):
 * it is a `Closable`, so it can go in `servedGateway`'s `upstreams`.
 */
export interface RawUpstream {
  /** `http://127.0.0.1:<port>`, without a path. */
  url: string;
  /** How the next requests are answered (default: a 200 `{}`). */
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void;
  /** Requests answered so far. */
  requests: number;
  server: Server;
  close(): Promise<void>;
}

export async function startRawUpstream(handle?: RawUpstream['handle']): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      up.requests++;
      up.handle(req, res, body);
    });
  });
  const up: RawUpstream = {
    url: '',
    requests: 0,
    handle: handle ?? ((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}')),
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return up;
}
