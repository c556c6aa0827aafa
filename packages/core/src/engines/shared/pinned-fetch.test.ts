import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinnedFetch } from './pinned-fetch.js';

/**
 * `pinnedFetch(addresses)` connects to the addresses it is given, whatever the URL's host resolves to (or whether it
 * resolves at all): a `.invalid` name (RFC 6761: never resolves) reaches the loopback server it is pinned to, with the
 * URL's host in its Host header. What the image download uses after checking a name's addresses (DNS rebinding).
 */
let server: Server;
let port: number;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/cat.png' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'x-two': ['a', 'b'] });
    res.end(Buffer.from('89504e47', 'hex'));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
});

describe('pinnedFetch', () => {
  it('connects to the given address for a name that does not resolve, sending the URL\'s host', async () => {
    seen.length = 0;
    const res = await (await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${port}/cat.png?x=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-two')).toBe('a, b');
    expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe('89504e47');
    expect(seen).toMatchObject([{ url: '/cat.png?x=1', headers: { host: `images.rebind.invalid:${port}` } }]);
  });

  it('gives a redirect as it is (the caller checks and follows it)', async () => {
    const res = await (await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${port}/moved`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/cat.png');
  });

  it('an aborted signal rejects, as fetch does', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect((await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${port}/cat.png`, { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('a connection that fails rejects with a TypeError, as fetch does', async () => {
    const closed = createServer();
    await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((res) => closed.close(() => res()));
    await expect((await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${deadPort}/cat.png`)).rejects.toBeInstanceOf(TypeError);
  });
});
