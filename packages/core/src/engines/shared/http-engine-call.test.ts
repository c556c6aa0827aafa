import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { rejection } from '../../test/async.test-helpers.js';
import { startLoopbackHttp, type LoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { errorFromResponse } from '../../util/http.js';
import { postJson, readJsonBody, type JsonPost } from './http-engine-call.js';

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}

let server: LoopbackHttp | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A loopback server answering every request with `status` and `body`; `seen` lists what it got. */
async function serve(status: number, body: string): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = await startLoopbackHttp((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: text });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  return { url: `${server.url}/v1/x`, seen };
}

const context = { provider: 'acme', deployment: 'd' };

function post(url: string, over: Partial<JsonPost> = {}): JsonPost {
  return {
    fetch: (...args) => globalThis.fetch(...args),
    url,
    body: { a: 1 },
    options: { headers: { 'x-call': 'c', 'x-config': 'from-call' } },
    context,
    apiKey: 'k',
    apiKeySource: 'ACME_API_KEY',
    providerHeaders: (apiKey) => ({ 'x-key': apiKey }),
    headers: { 'x-config': 'cfg' },
    responseError: async (response, ctx) => new LLMError({ code: 'rate_limited', message: `status ${response.status}`, ...ctx }),
    ...over,
  };
}

describe('postJson', () => {
  it('POSTs the JSON body with content-type, provider, configured and call headers (later ones win)', async () => {
    const { url, seen } = await serve(200, '{"ok":true}');
    const response = await postJson(post(url));
    await expect(readJsonBody(response, undefined, context)).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    const got = seen[0];
    expect(got?.body).toBe('{"a":1}');
    expect([got?.headers['content-type'], got?.headers['x-key'], got?.headers['x-config'], got?.headers['x-call']]).toEqual(['application/json', 'k', 'from-call', 'c']);
  });

  it('maps a non-2xx answer with responseError', async () => {
    const { url } = await serve(429, '{}');
    const error = await rejection(postJson(post(url)));
    expect([error.code, error.message, error.deployment]).toEqual(['rate_limited', 'status 429', 'd']);
  });

  it('refuses to send without an API key', async () => {
    const { url, seen } = await serve(200, '{}');
    const error = await rejection(postJson(post(url, { apiKey: undefined })));
    expect([error.code, error.message]).toEqual(['authentication', 'acme: no API key (looked in ACME_API_KEY)']);
    expect(seen).toHaveLength(0);
  });
});

describe('postJson and redirects', () => {
  it("asks the fetch not to follow redirects; a 3xx (also a browser's opaqueredirect) is a provider_error, not retried, the Location unquoted", async () => {
    const inits: RequestInit[] = [];
    const redirect = new Response(null, { status: 307, headers: { location: 'https://elsewhere.test/v1/x?sig=SECRET-SIGNATURE' } });
    const fetch = async (_url: unknown, init?: RequestInit) => {
      inits.push(init!);
      return redirect;
    };
    const error = await rejection(postJson(post('http://acme.test/v1/x', { fetch: fetch as typeof globalThis.fetch, responseError: (r, ctx) => errorFromResponse(r, ctx) })));
    expect(inits.map((i) => i.redirect)).toEqual(['manual']);
    expect(error).toMatchObject({ code: 'provider_error', isRetryable: false, upstreamStatus: 307, statusCode: 502, deployment: 'd', details: { redirectTo: 'https://elsewhere.test/v1/x' } });
    expect(error.message).toContain('to another address');
    expect(error.message).toContain('redirect (HTTP 307)');
    expect(error.message).not.toMatch(/elsewhere|SECRET/);
    // What a browser answers for `redirect: 'manual'`: status 0, type opaqueredirect, no headers.
    const opaque = new Response(null, { status: 200 });
    Object.defineProperties(opaque, { status: { value: 0 }, ok: { value: false }, type: { value: 'opaqueredirect' } });
    expect(await errorFromResponse(opaque, context)).toMatchObject({ code: 'provider_error', isRetryable: false, upstreamStatus: undefined, message: expect.stringContaining('answered with a redirect instead') });
  });
});

describe('postJson and redirects within the origin', () => {
  /** A loopback server: `routes[path]` is [status, Location] for a redirect, else a 200; `seen` lists every request. */
  async function redirecting(routes: Record<string, [number, string]>): Promise<{ base: string; seen: Array<Seen & { method: string; url: string }> }> {
    const seen: Array<Seen & { method: string; url: string }> = [];
    server = await startLoopbackHttp((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: text });
        const route = routes[req.url!.split('?')[0]!];
        if (route) res.writeHead(route[0], { location: route[1], 'content-length': '0' }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(`{"at":"${req.url}"}`);
      });
    });
    return { base: server.url, seen };
  }
  const redirectError: Partial<JsonPost> = { responseError: (r, ctx) => errorFromResponse(r, ctx) };

  it('follows a relative same-origin 308 (a trailing slash), re-sending the POST, its body and key', async () => {
    const { base, seen } = await redirecting({ '/v1/x': [308, '/v1/x/'] });
    const response = await postJson(post(`${base}/v1/x`, redirectError));
    await expect(readJsonBody(response, undefined, context)).resolves.toEqual({ at: '/v1/x/' });
    expect(seen.map((r) => [r.method, r.url, r.body, r.headers['x-key']])).toEqual([
      ['POST', '/v1/x', '{"a":1}', 'k'],
      ['POST', '/v1/x/', '{"a":1}', 'k'],
    ]);
  });

  it('301, 302 and 307 hops (relative or absolute) are followed as POSTs, at most 3: a longer chain or a loop is a provider_error naming no address; the log detail is origin and path, no query', async () => {
    const routes: Record<string, [number, string]> = { '/loop': [307, '/loop?sig=SECRET-SIGNATURE'], '/a': [301, '/b'], '/c': [307, 'd'] };
    const { base, seen } = await redirecting(routes);
    routes['/b'] = [302, `${base}/c`]; // absolute, the same origin
    const chained = await postJson(post(`${base}/a`, redirectError));
    await expect(readJsonBody(chained, undefined, context)).resolves.toEqual({ at: '/d' });
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /a', 'POST /b', 'POST /c', 'POST /d']);
    seen.length = 0;
    const error = await rejection(postJson(post(`${base}/loop`, redirectError)));
    expect(error).toMatchObject({ code: 'provider_error', isRetryable: false, upstreamStatus: 307, details: { redirectTo: `${base}/loop` } });
    expect(error.message).toContain('redirect (HTTP 307) more than 3 times');
    expect(error.message).not.toMatch(/SECRET|127\.0\.0\.1/);
    expect(seen).toHaveLength(4);
  });

  it('a 303 (GET the answer elsewhere) and another origin are not followed; neither is a redirect without a Location', async () => {
    const { base, seen } = await redirecting({ '/see': [303, '/other'], '/away': [308, 'http://localhost:1/v1/x?sig=SECRET'] });
    const see = await rejection(postJson(post(`${base}/see`, redirectError)));
    expect(see).toMatchObject({ code: 'provider_error', upstreamStatus: 303, details: { redirectTo: `${base}/other` } });
    expect(see.message).toContain('redirect (HTTP 303) that would turn the request into a GET');
    const away = await rejection(postJson(post(`${base}/away`, redirectError)));
    expect(away).toMatchObject({ code: 'provider_error', upstreamStatus: 308, details: { redirectTo: 'http://localhost:1/v1/x' } });
    expect(away.message).toContain('redirect (HTTP 308) to another address');
    expect(away.message).not.toContain('SECRET');
    expect(seen.map((r) => r.url)).toEqual(['/see', '/away']);
    const bare = async () => new Response(null, { status: 307 });
    const none = await rejection(postJson(post(`${base}/x`, { fetch: bare as typeof globalThis.fetch, ...redirectError })));
    expect(none).toMatchObject({ code: 'provider_error', upstreamStatus: 307, details: undefined, message: expect.stringContaining('without a usable Location') });
  });

  it('http -> https on the same host is followed (default or same port); https -> http, or another port, is not', async () => {
    for (const [from, to, followed] of [
      ['http://acme.test/v1/x', 'https://acme.test/v1/x', true],
      ['http://acme.test:8080/v1/x', 'https://acme.test:8080/v1/x', true],
      ['http://acme.test:8080/v1/x', 'https://acme.test:8443/v1/x', false],
      ['https://acme.test/v1/x', 'http://acme.test/v1/x', false],
      ['http://acme.test/v1/x', 'https://api.acme.test/v1/x', false],
    ] as const) {
      const asked: string[] = [];
      const fetch = async (url: unknown) => {
        asked.push(String(url));
        return asked.length === 1 ? new Response(null, { status: 308, headers: { location: to } }) : new Response('{"ok":true}');
      };
      const outcome = await postJson(post(from, { fetch: fetch as typeof globalThis.fetch, ...redirectError })).then(
        () => 'followed',
        (e: LLMError) => e.message,
      );
      if (followed) expect(outcome, to).toBe('followed');
      else expect(outcome, to).toContain('to another address');
      expect(asked, to).toEqual(followed ? [from, to] : [from]);
    }
  });
});

describe('readJsonBody', () => {
  it('refuses a body that is not JSON with invalid_response naming the provider', async () => {
    const error = await rejection(readJsonBody(new Response('not json'), undefined, context));
    expect([error.code, error.provider]).toEqual(['invalid_response', 'acme']);
  });
});
