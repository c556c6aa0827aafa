import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../stores/__fixtures__/free-port.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { downloadImage } from '../gemini/download-image.js';
import { pinnedFetch } from './pinned-fetch.js';

/**
 * `pinnedFetch(addresses)` connects to the addresses it is given, whatever the URL's host resolves to (or whether it
 * resolves at all): a `.invalid` name (RFC 6761: never resolves) reaches the loopback server it is pinned to, with the
 * URL's host in its Host header. What the image download uses after checking a name's addresses (DNS rebinding).
 */
let server: LoopbackHttp | undefined;
let port: number;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

beforeAll(async () => {
  server = await startLoopbackHttp((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/gzip.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' });
      res.end(gzipSync(Buffer.from('89504e47', 'hex')));
      return;
    }
    // `/coded/<Content-Encoding>`: the PNG signature (or `?mb=N` MB of zeros) encoded with each coding in turn.
    if (req.url?.startsWith('/coded/')) {
      const { pathname, searchParams } = new URL(req.url, 'http://x');
      const header = decodeURIComponent(pathname.slice('/coded/'.length));
      const mb = Number(searchParams.get('mb') ?? 0);
      const encode: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync, identity: (b) => b };
      let body: Buffer = mb > 0 ? Buffer.alloc(mb * 1024 * 1024) : Buffer.from('89504e47', 'hex');
      for (const coding of header.split(',')) body = encode[coding.trim().toLowerCase()]?.(body) ?? body;
      res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': header });
      res.end(body);
      return;
    }
    // Headers and a first piece of the body, then nothing (the connection left open).
    if (req.url === '/stall.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(Buffer.from('8950', 'hex'));
      return;
    }
    // No answer at all.
    if (req.url === '/silent') return;
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/cat.png' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'x-two': ['a', 'b'] });
    res.end(Buffer.from('89504e47', 'hex'));
  });
  port = server.port;
});
afterAll(async () => {
  await server?.close();
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

  it('sends a User-Agent, asks for no compression, sends the caller\'s headers (Accept), and decodes a body compressed anyway', async () => {
    seen.length = 0;
    const get = await pinnedFetch(['127.0.0.1']);
    const res = await get(`http://images.rebind.invalid:${port}/gzip.png`, { headers: { accept: 'image/*' } });
    expect(seen[0]?.headers).toMatchObject({ 'user-agent': 'llmrr', 'accept-encoding': 'identity', accept: 'image/*', connection: 'close' });
    expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe('89504e47');
  });

  it.each(['gzip, br', 'deflate,gzip', 'br, identity, gzip', 'identity', 'GZIP'])('decodes a body with the codings %j, undone from the last applied', async (codings) => {
    const res = await (await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${port}/coded/${encodeURIComponent(codings)}`);
    expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe('89504e47');
  });

  it('refuses a body with a coding it does not know (a TypeError naming it), never gives it still encoded', async () => {
    const get = await pinnedFetch(['127.0.0.1']);
    for (const codings of ['zstd', 'gzip, compress']) {
      await expect(get(`http://images.rebind.invalid:${port}/coded/${encodeURIComponent(codings)}`)).rejects.toThrow(new TypeError(`fetch failed: unsupported Content-Encoding "${codings.split(', ').at(-1)}"`));
    }
  });

  it('bounds an image encoded twice (gzip, br) at 20 MB decoded', async () => {
    const settings = { provider: 'gemini', fetch: fetch as never, resolveHost: async () => ['127.0.0.1'], isPublicAddress: () => true };
    await expect(downloadImage(`http://images.rebind.invalid:${port}/coded/${encodeURIComponent('gzip, br')}?mb=64`, 'messages.0.content.1.url', settings)).rejects.toMatchObject({
      message: expect.stringMatching(/larger than 20 MB/),
    });
  });

  it('connects to an IPv6 address (::1) for a name that does not resolve', async () => {
    const v6 = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'x-host': req.headers.host ?? '' });
      res.end(Buffer.from('89504e47', 'hex'));
    });
    await new Promise<void>((res) => v6.listen(0, '::1', res));
    try {
      const v6Port = (v6.address() as AddressInfo).port;
      const res = await (await pinnedFetch(['::1']))(`http://images.rebind.invalid:${v6Port}/cat.png`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-host')).toBe(`images.rebind.invalid:${v6Port}`);
      expect(Buffer.from(await res.arrayBuffer()).toString('hex')).toBe('89504e47');
      // Only the given addresses are connected to: an IPv4-only list does not reach it.
      await expect((await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${v6Port}/cat.png`)).rejects.toBeInstanceOf(TypeError);
    } finally {
      v6.closeAllConnections();
      await new Promise<void>((res) => v6.close(() => res()));
    }
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
    const deadPort = await freePort();
    await expect((await pinnedFetch(['127.0.0.1']))(`http://images.rebind.invalid:${deadPort}/cat.png`)).rejects.toBeInstanceOf(TypeError);
  });

  describe('timeouts (Node fetch\'s by default: 10 s to connect, 300 s for the headers, 300 s of body silence)', () => {
    it('a TLS handshake that never ends: a TypeError saying no connection was made in time', async () => {
      // A TCP server that accepts and never speaks: the https client's handshake waits.
      const sockets: Socket[] = [];
      const mute = createTcpServer((socket) => sockets.push(socket));
      await new Promise<void>((res) => mute.listen(0, '127.0.0.1', res));
      try {
        const mutePort = (mute.address() as AddressInfo).port;
        const failure = await (await pinnedFetch(['127.0.0.1'], { connectMs: 200 }))(`https://images.rebind.invalid:${mutePort}/cat.png`).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(TypeError);
        expect((failure as Error).message).toBe('fetch failed: no connection within 200 ms');
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((res) => mute.close(() => res()));
      }
    });

    it('a server that never answers: a TypeError saying no headers came in time', async () => {
      const failure = await (await pinnedFetch(['127.0.0.1'], { headersMs: 200 }))(`http://images.rebind.invalid:${port}/silent`).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TypeError);
      expect((failure as Error).message).toBe('fetch failed: no response headers within 200 ms');
    });

    it('a body that stops coming: its stream errors saying so', async () => {
      const res = await (await pinnedFetch(['127.0.0.1'], { bodyIdleMs: 200 }))(`http://images.rebind.invalid:${port}/stall.png`);
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow('no body data for 200 ms');
    });
  });
});
