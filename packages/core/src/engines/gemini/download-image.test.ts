import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import type { FetchFn } from '../../util/http.js';
import { downloadImage, type ImageDownloadSettings } from './download-image.js';
import { useGeminiWireServer, GEMINI_TEST_KEY } from './gemini-wire.test-helpers.js';

/**
 * The Gemini engine downloads the prompt's http(s) image URLs itself. By default it refuses a URL whose host is, or
 * resolves to, an address that is not public (loopback, private, link-local and metadata addresses...), redirects
 * included, with `invalid_request` naming the part, before any connection to it: through a multi-tenant gateway the
 * download would otherwise be a server-side request forgery. `options.allowPrivateImageUrls` opts in.
 */
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const MB = 1024 * 1024;
/** What the image server streams for `/huge.png` and `/page.html`: far above the 20 MB limit. */
const OFFERED = 120 * MB;
const LIMIT = 20 * MB;
/** Bytes the image server managed to write per path (it writes only as fast as the client reads: backpressure). */
const written = new Map<string, number>();
let images: LoopbackHttp | undefined;
let imagesUrl: string;
let hits: string[] = [];
/** The headers of the image server's last request. */
let lastHeaders: Record<string, string | string[] | undefined> = {};

beforeAll(async () => {
  images = await startLoopbackHttp((req, res) => {
    hits.push(req.url ?? '');
    lastHeaders = req.headers;
    if (req.url === '/to-private') {
      res.writeHead(302, { location: `${imagesUrl}/cat.png` });
      res.end();
      return;
    }
    // No content-length (chunked), as a proxy or a dynamic endpoint answers.
    if (req.url === '/huge.png' || req.url === '/page.html') {
      res.writeHead(200, { 'content-type': req.url === '/page.html' ? 'text/html' : 'image/png' });
      stream(res, req.url);
      return;
    }
    // Exactly the limit, one byte more, a body that breaks after 2 MB, one that stalls after 1 MB: no content-length.
    const sized: Record<string, [number, number?]> = { '/exact.png': [LIMIT], '/over.png': [LIMIT + 1], '/broken.png': [4 * MB, 2 * MB] };
    const size = sized[req.url ?? ''];
    if (size) {
      res.writeHead(200, { 'content-type': 'image/png' });
      stream(res, req.url!, ...size);
      return;
    }
    if (req.url === '/stall.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.on('close', () => (stallClosed = true));
      res.write(Buffer.alloc(MB, 0x41), () => stalled());
      return;
    }
    if (req.url === '/chunked.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG.subarray(0, 3));
      res.end(PNG.subarray(3));
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) });
    res.end(PNG);
  });
  imagesUrl = images.url;
});
afterAll(async () => {
  await images?.close();
});

/** Resolved when the server has written the first part of `/stall.png` (the client then aborts). */
let stalled: () => void = () => {};
const stalledOnce = new Promise<void>((resolve) => (stalled = resolve));
/** Whether the client closed the stalled response's connection. */
let stallClosed = false;

/**
 * Writes `total` bytes (default `OFFERED`) in chunks of at most 1 MB, waiting for `drain`, until done or the client goes
 * away; with `breakAt`, destroys the connection once that many are written (a body that breaks mid-read).
 */
function stream(res: ServerResponse, path: string, total = OFFERED, breakAt?: number): void {
  let sent = 0;
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  const pump = (): void => {
    while (!gone && sent < total) {
      const chunk = Buffer.alloc(Math.min(MB, total - sent), 0x41);
      sent += chunk.length;
      written.set(path, sent);
      if (breakAt !== undefined && sent >= breakAt) {
        res.write(chunk, () => res.destroy());
        return;
      }
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!gone) res.end();
  };
  pump();
}

const gemini = useGeminiWireServer();
const engine = (options: Record<string, unknown> = {}) =>
  createGeminiEngine(
    ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL: gemini.server.url, apiKey: GEMINI_TEST_KEY, options }),
    defaultEngineContext({ env: {} }),
  );
const withImage = (url: string) => ({ messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'what is this?' }, { type: 'image' as const, url }] }] });

describe('the Gemini engine refuses image URLs of non-public addresses by default', () => {
  it.each([
    ['a loopback address', () => `${imagesUrl}/cat.png`],
    ['a host name that resolves to loopback', () => `${imagesUrl.replace('127.0.0.1', 'localhost')}/cat.png`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a private address', () => 'http://10.0.0.7/cat.png'],
    ['an IPv6 loopback', () => 'http://[::1]/cat.png'],
    ['an IPv4-mapped IPv6 loopback', () => 'http://[::ffff:127.0.0.1]/cat.png'],
    ['an unspecified address', () => 'http://0.0.0.0/cat.png'],
  ])('%s: 400 invalid_request naming the part, nothing downloaded, Gemini not asked', async (_, url) => {
    hits = [];
    const asked = gemini.server.requests.length;
    const failure = await engine()
      .generate(withImage(url()))
      .then(
        () => undefined,
        (e: unknown) => e as { code: string; statusCode: number; param: string; message: string },
      );
    expect(failure).toMatchObject({ code: 'invalid_request', statusCode: 400, param: 'messages.0.content.1.url' });
    expect(failure?.message).toMatch(/messages\.0\.content\.1\.url: the image URL's host .* is not a public address/);
    expect(hits).toEqual([]);
    expect(gemini.server.requests.length).toBe(asked);
  });

  it('a stream ends with the same error part', async () => {
    const parts: Array<{ type: string }> = [];
    for await (const part of engine().stream(withImage(`${imagesUrl}/cat.png`))) parts.push(part);
    expect(parts).toMatchObject([{ type: 'error', error: { code: 'invalid_request', param: 'messages.0.content.1.url' } }]);
  });

  it('options.allowPrivateImageUrls opts in (loopback image servers, trusted networks)', async () => {
    hits = [];
    await engine({ allowPrivateImageUrls: true }).generate(withImage(`${imagesUrl}/cat.png`));
    expect(hits).toEqual(['/cat.png']);
    const body = gemini.lastBody() as { contents: Array<{ parts: unknown[] }> };
    expect(body.contents[0]!.parts[1]).toEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
  });
});

// The download used to read the whole body (`arrayBuffer()`) before checking the 20 MB limit and the content-type: an
// answer without a Content-Length was read to its end however large (a multi-gigabyte file, an endless stream).
describe('the Gemini engine reads a prompt image only up to 20 MB', () => {
  const failure = (path: string) =>
    engine({ allowPrivateImageUrls: true })
      .generate(withImage(`${imagesUrl}${path}`))
      .then(
        () => undefined,
        (e: unknown) => e as { code: string; param: string; message: string },
      );

  it('an image answered without content-length stops being read soon after 20 MB: invalid_request naming the part', async () => {
    const asked = gemini.server.requests.length;
    expect(await failure('/huge.png')).toMatchObject({ code: 'invalid_request', param: 'messages.0.content.1.url', message: expect.stringMatching(/messages\.0\.content\.1\.url: the image is larger than 20 MB/) });
    // Abandoned past 20 MB (a few MB of socket buffers aside), not all 120 MB.
    expect(written.get('/huge.png')! / MB).toBeLessThan(40);
    expect(gemini.server.requests.length).toBe(asked);
  }, 60_000);

  it('a URL whose content-type is not an image (text/html) is refused from its headers, its body not read', async () => {
    expect(await failure('/page.html')).toMatchObject({ code: 'invalid_request', param: 'messages.0.content.1.url', message: expect.stringMatching(/did not answer with an image content-type \(got "text\/html"\)/) });
    expect(written.get('/page.html')! / MB).toBeLessThan(40);
  }, 60_000);

  it('an image without content-length below the limit arrives whole, its chunks joined', async () => {
    await engine({ allowPrivateImageUrls: true }).generate(withImage(`${imagesUrl}/chunked.png`));
    const body = gemini.lastBody() as { contents: Array<{ parts: unknown[] }> };
    expect(body.contents[0]!.parts[1]).toEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
  });

  const loopback = (signal?: AbortSignal): ImageDownloadSettings => ({ provider: 'gemini', fetch: (u, i) => fetch(u, i), allowPrivateImageUrls: true, ...(signal ? { signal } : {}) });

  it('exactly 20 MB without content-length is taken whole; 20 MB and one byte is invalid_request naming the part', async () => {
    const part = (await downloadImage(`${imagesUrl}/exact.png`, 'p', loopback())) as { inlineData: { data: string } };
    expect(Buffer.from(part.inlineData.data, 'base64').length).toBe(LIMIT);
    await expect(downloadImage(`${imagesUrl}/over.png`, 'messages.0.content.1.url', loopback())).rejects.toMatchObject({
      code: 'invalid_request',
      param: 'messages.0.content.1.url',
      message: expect.stringMatching(/larger than 20 MB/),
    });
  }, 60_000);

  it('a body that breaks mid-read is invalid_request (the download failed), not a server error', async () => {
    await expect(downloadImage(`${imagesUrl}/broken.png`, 'p', loopback())).rejects.toMatchObject({ code: 'invalid_request', param: 'p', message: expect.stringMatching(/download failed/) });
  }, 60_000);

  it("the call's abort mid-body rejects as aborted and closes the connection", async () => {
    const controller = new AbortController();
    const download = downloadImage(`${imagesUrl}/stall.png`, 'p', loopback(controller.signal));
    await stalledOnce;
    controller.abort();
    await expect(download).rejects.toMatchObject({ code: 'aborted' });
    await vi.waitFor(() => expect(stallClosed).toBe(true), { timeout: 10_000 });
  }, 60_000);
});

describe('downloadImage', () => {
  /** A public host name (resolved by the seam) whose fetch is answered by `answer`, the rest by the real fetch. */
  const settings = (answer: (url: string) => Response | undefined, resolved: Record<string, string[]> = {}): ImageDownloadSettings & { fetched: string[] } => {
    const fetched: string[] = [];
    return {
      provider: 'gemini',
      fetched,
      fetch: async (input, init) => {
        const url = String(input);
        fetched.push(url);
        return answer(url) ?? fetch(url, init);
      },
      resolveHost: async (host) => resolved[host] ?? ['93.184.216.34'],
      // Connected to at the checked address: here the same answers.
      pinnedFetch: () => async (input, init) => {
        const url = String(input);
        fetched.push(url);
        return answer(url) ?? fetch(url, init);
      },
    };
  };
  const png = () => new Response(PNG, { headers: { 'content-type': 'image/png' } });

  it('downloads from a host that resolves to public addresses only', async () => {
    const s = settings((url) => (url === 'https://images.example/cat.png' ? png() : undefined));
    expect(await downloadImage('https://images.example/cat.png', 'p', s)).toEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
  });

  it('refuses a host with one non-public address among public ones', async () => {
    const s = settings(() => png(), { 'mixed.example': ['93.184.216.34', '192.168.0.10'] });
    await expect(downloadImage('https://mixed.example/cat.png', 'p', s)).rejects.toMatchObject({ code: 'invalid_request', param: 'p' });
    expect(s.fetched).toEqual([]);
  });

  it('refuses a redirect to a non-public address before following it, and follows one to a public address', async () => {
    const s = settings((url) => {
      if (url === 'https://images.example/a') return new Response(null, { status: 302, headers: { location: `${imagesUrl}/cat.png` } });
      if (url === 'https://images.example/b') return new Response(null, { status: 301, headers: { location: '/cat.png' } });
      if (url === 'https://images.example/cat.png') return png();
      return undefined;
    });
    hits = [];
    await expect(downloadImage('https://images.example/a', 'p', s)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/not a public address/) });
    expect(hits).toEqual([]);
    expect(await downloadImage('https://images.example/b', 'p', s)).toMatchObject({ inlineData: { mimeType: 'image/png' } });
    expect(s.fetched).toEqual(['https://images.example/a', 'https://images.example/b', 'https://images.example/cat.png']);
  });

  it('refuses a redirect loop and a redirect to another scheme; a host that does not resolve is the request\'s fault', async () => {
    const loop = settings(() => new Response(null, { status: 302, headers: { location: '/again' } }));
    await expect(downloadImage('https://images.example/a', 'p', loop)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/redirected more than 5 times/) });
    const file = settings(() => new Response(null, { status: 302, headers: { location: 'file:///etc/passwd' } }));
    await expect(downloadImage('https://images.example/a', 'p', file)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/not http\(s\)/) });
    const unresolved = { ...settings(() => png()), resolveHost: () => Promise.reject(new Error('ENOTFOUND')) };
    await expect(downloadImage('https://nowhere.example/a', 'p', unresolved)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/could not resolve/) });
  });

  // DNS rebinding: a name that resolves to a public address for the check and to loopback (or the metadata address)
  // for the connection. The download resolves once per hop and connects to the addresses it checked.
  it('connects to the address it checked, never resolving the name again: a name that answers public, then loopback, is not downloaded from loopback', async () => {
    hits = [];
    const answers = [['93.184.216.34'], ['127.0.0.1']];
    const lookups: string[] = [];
    const connected: string[][] = [];
    const s: ImageDownloadSettings = {
      provider: 'gemini',
      fetch: (u, i) => fetch(u, i),
      resolveHost: async (host) => {
        lookups.push(host);
        return answers.shift() ?? ['127.0.0.1'];
      },
      pinnedFetch: (addresses) => {
        connected.push([...addresses]);
        return async () => png();
      },
    };
    expect(await downloadImage(`${imagesUrl.replace('127.0.0.1', 'localhost')}/cat.png`, 'p', s)).toEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
    expect(hits).toEqual([]);
    expect(lookups).toEqual(['localhost']);
    expect(connected).toEqual([['93.184.216.34']]);
  });

  // The real pinnedFetch: the loopback image server stands for a public host (the address check is the seam), reached
  // by a name that never resolves (RFC 6761 `.invalid`) at the address the resolver seam answered and that was checked.
  it('downloads through the real pinned connection to the checked address, never through the engine\'s fetch', async () => {
    hits = [];
    const engineFetch = vi.fn<FetchFn>(() => Promise.reject(new Error('the engine fetch is not used for a host name')));
    const checked: string[] = [];
    const s: ImageDownloadSettings = {
      provider: 'gemini',
      fetch: engineFetch,
      resolveHost: async () => ['127.0.0.1'],
      isPublicAddress: (address) => {
        checked.push(address);
        return address === '127.0.0.1';
      },
    };
    const url = imagesUrl.replace('127.0.0.1', 'images.rebind.invalid');
    expect(await downloadImage(`${url}/cat.png`, 'p', s)).toEqual({ inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } });
    expect(hits).toEqual(['/cat.png']);
    expect(checked).toEqual(['127.0.0.1']);
    expect(lastHeaders).toMatchObject({ host: new URL(url).host, accept: 'image/*', 'user-agent': 'llmrr', 'accept-encoding': 'identity' });
    expect(engineFetch).not.toHaveBeenCalled();
    // An address the check refuses is not connected to.
    hits = [];
    await expect(downloadImage(`${url}/cat.png`, 'p', { ...s, isPublicAddress: () => false })).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/not a public address/) });
    expect(hits).toEqual([]);
  });

  it("imageFetch 'fetch' downloads a checked host name through the engine's fetch (an egress proxy's); the check still refuses", async () => {
    const pinned = vi.fn();
    const proxied: Array<{ url: string; accept: string | null }> = [];
    const s: ImageDownloadSettings = {
      provider: 'gemini',
      imageFetch: 'fetch',
      fetch: async (input, init) => {
        proxied.push({ url: String(input), accept: new Headers(init?.headers).get('accept') });
        return png();
      },
      resolveHost: async (host) => (host === 'internal.example' ? ['10.0.0.7'] : ['93.184.216.34']),
      pinnedFetch: pinned,
    };
    expect(await downloadImage('https://images.example/cat.png', 'p', s)).toMatchObject({ inlineData: { mimeType: 'image/png' } });
    expect(proxied).toEqual([{ url: 'https://images.example/cat.png', accept: 'image/*' }]);
    await expect(downloadImage('https://internal.example/cat.png', 'p', s)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/not a public address/) });
    expect(proxied).toHaveLength(1);
    expect(pinned).not.toHaveBeenCalled();
  });

  it("options.imageFetch is 'pinned' or 'fetch'; anything else is config_invalid naming it", () => {
    expect(() => engine({ imageFetch: 'fetch' })).not.toThrow();
    expect(() => engine({ imageFetch: 'proxy' })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'options.imageFetch' }));
  });

  it('with allowPrivateImageUrls follows redirects to any address', async () => {
    hits = [];
    const s = { ...settings(() => undefined), allowPrivateImageUrls: true };
    expect(await downloadImage(`${imagesUrl}/to-private`, 'p', s)).toMatchObject({ inlineData: { mimeType: 'image/png' } });
    expect(hits).toEqual(['/to-private', '/cat.png']);
  });
});
