/**
 * The floor: the least a Node reverse proxy can do on this machine. `node:http` in front, an undici
 * keep-alive `Pool` to the mock upstream behind; the request body and the answer's bytes are piped through
 * untouched (no auth, no parsing, no routing, no ledger, no metrics). Not a gateway: the benchmark runs it
 * to show how much of a gateway's added latency and CPU any Node proxy pays here (two more loopback hops,
 * one more event loop), so our gateway's numbers can be read against it. Prints `PORT <n>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');
const pool = new Pool(upstream, { connections: 512, pipelining: 1 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/json', authorization: 'Bearer sk-bench' },
        body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
      })
      .then(({ statusCode, headers, body }) => {
        const contentType = headers['content-type'];
        res.writeHead(statusCode, contentType ? { 'content-type': String(contentType) } : {});
        body.on('data', (c: Buffer) => res.write(c));
        body.on('end', () => res.end());
        body.on('error', () => res.destroy());
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":{"type":"api_error","code":"upstream_error","message":"upstream failed"}}');
      });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`PORT ${(server.address() as AddressInfo).port}`);
});
const stop = () => {
  server.close();
  void pool.close();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
