import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { rejection } from '../../test/async.test-helpers.js';
import { errorFromResponse } from '../../util/http.js';
import { postJson, readJsonBody, type JsonPost } from './http-engine-call.js';

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A loopback server answering every request with `status` and `body`; `seen` lists what it got. */
async function serve(status: number, body: string): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: text });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`, seen };
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
    expect(error).toMatchObject({ code: 'provider_error', isRetryable: false, upstreamStatus: 307, statusCode: 502, deployment: 'd', details: { redirectOrigin: 'https://elsewhere.test' } });
    expect(error.message).toContain('redirect (HTTP 307)');
    expect(error.message).not.toMatch(/elsewhere|SECRET/);
    // What a browser answers for `redirect: 'manual'`: status 0, type opaqueredirect, no headers.
    const opaque = new Response(null, { status: 200 });
    Object.defineProperties(opaque, { status: { value: 0 }, ok: { value: false }, type: { value: 'opaqueredirect' } });
    expect(await errorFromResponse(opaque, context)).toMatchObject({ code: 'provider_error', isRetryable: false, upstreamStatus: undefined, message: expect.stringContaining('answered with a redirect instead') });
  });
});

describe('readJsonBody', () => {
  it('refuses a body that is not JSON with invalid_response naming the provider', async () => {
    const error = await rejection(readJsonBody(new Response('not json'), undefined, context));
    expect([error.code, error.provider]).toEqual(['invalid_response', 'acme']);
  });
});
