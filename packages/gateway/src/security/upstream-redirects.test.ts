/**
 * An upstream (a misconfigured proxy or load balancer in front of the provider) that answers a redirect to another
 * origin. Fetch drops `Authorization` on a cross-origin redirect, but not the providers' own key headers (Anthropic's
 * `x-api-key`, Gemini's `x-goog-api-key`, Azure's `api-key`): provider calls follow only redirects within their origin.
 * The client gets a 502 `provider_error` naming the kind of redirect (not its `Location`; the server log has its origin
 * and path in `details`), the deployment is not asked again, and the other origin is never reached: through the
 * gateway's upstream client (`createUpstreamFetch`) and global fetch, for chat (streamed or not), embeddings and the
 * providers' token counts. A proxy's trailing-slash 308 within the origin is followed as before; a Location at the
 * origin with a user name and password (global fetch would fail with an error quoting it whole, createUpstreamFetch
 * would drop them), or in another scheme with that origin (`blob:http://...`), is refused like another address.
 */
import { LLMRouter } from '@llmrr/core';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamFetch, type UpstreamFetch } from '../node/upstream-fetch.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import type { ModelInput } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';
import { startRawUpstream, type RawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

/** What the other origin was sent, and the paths the redirecting proxy was asked. */
let seen: IncomingHttpHeaders[] = [];
let asked: string[] = [];
let other: RawUpstream;
let proxy: RawUpstream;
let otherPort: string;
let upstreamFetch: UpstreamFetch;
const gws: SdkGateway[] = [];
/** A query secret in the Location: the client's error must not quote it. */
const SIGNED = 'sig=LOCATION-SIGNATURE';
/** A password in a Location within the origin: neither followed nor quoted. */
const LOCATION_PASSWORD = 'PASSWORD-IN-LOCATION';
/** The Authorization header of each request the proxy was asked. */
let keys: Array<string | undefined> = [];
let proxyUrl = '';
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'answered' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

beforeAll(async () => {
  // The other origin (`localhost` vs `127.0.0.1`: another origin for fetch) records what it is sent.
  other = await startRawUpstream((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  otherPort = new URL(other.url).port;
  proxy = await startRawUpstream((req, res) => {
    asked.push(req.url!);
    keys.push(req.headers.authorization);
    // Under /creds/: the same origin, with a user name, password and signed query in the Location.
    if (req.url!.startsWith('/creds/')) {
      res.writeHead(307, { location: `http://user:${LOCATION_PASSWORD}@127.0.0.1:${new URL(proxyUrl).port}${req.url}/?${SIGNED}`, 'content-length': '0' }).end();
      return;
    }
    // Under /blob/: a blob: Location whose inner origin is this one (`URL.origin` of a blob: URL is the inner one).
    if (req.url!.startsWith('/blob/')) {
      res.writeHead(307, { location: `blob:http://user:${LOCATION_PASSWORD}@127.0.0.1:${new URL(proxyUrl).port}/next?${SIGNED}`, 'content-length': '0' }).end();
      return;
    }
    // Under /slash/: a proxy's trailing-slash rule (a relative 308 within the origin), then the answer.
    if (req.url!.startsWith('/slash/')) {
      if (req.url!.endsWith('/')) res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
      else res.writeHead(308, { location: `${req.url}/`, 'content-length': '0' }).end();
      return;
    }
    res.writeHead(307, { location: `http://localhost:${otherPort}${req.url}${req.url!.includes('?') ? '&' : '?'}${SIGNED}` });
    res.end();
  });
  proxyUrl = proxy.url;
  upstreamFetch = createUpstreamFetch();
  const models: ModelInput[] = [
    { name: 'claude', engine: 'anthropic', baseURL: proxyUrl, model: 'claude-test', apiKey: 'sk-ant-SECRET-KEY-0123456789', capabilities: ['chat', 'streaming'], options: { exactTokenCount: true } },
    { name: 'gem', engine: 'gemini', baseURL: proxyUrl, model: 'gemini-2.5-flash', apiKey: 'AIzaSECRETKEY0123456789', capabilities: ['chat', 'streaming', 'embeddings'], options: { exactTokenCount: true } },
    { name: 'azure', engine: 'openai-compatible', preset: 'azure-openai', baseURL: proxyUrl, model: 'gpt-4o-mini', apiKey: 'azure-SECRET-KEY-0123456789', capabilities: ['chat', 'streaming', 'embeddings'] },
    { name: 'oai', engine: 'openai-compatible', baseURL: `${proxyUrl}/v1`, model: 'gpt-test', apiKey: 'sk-SECRET-KEY-0123456789', capabilities: ['chat', 'streaming', 'embeddings'] },
    { name: 'slash', engine: 'openai-compatible', baseURL: `${proxyUrl}/slash/v1`, model: 'gpt-test', apiKey: 'sk-SLASH-KEY-0123456789', capabilities: ['chat'] },
  ];
  // Retries allowed: a redirect must still be asked once only.
  const routing = { strategy: 'priority', retries: { max: 2 } } as const;
  gws.push(await servedGateway({ models, routing, routerOptions: { env: {}, fetch: upstreamFetch } }));
  gws.push(await servedGateway({ models, routing }));
});
afterAll(async () => {
  for (const g of gws) await g.close();
  await upstreamFetch?.close();
  await Promise.all([other?.close(), proxy?.close()]);
});

const calls: Array<{ label: string; models: string[]; path: string; body: (model: string) => Record<string, unknown>; style?: 'anthropic' }> = [
  { label: 'chat', models: ['claude', 'gem', 'azure', 'oai'], path: '/v1/chat/completions', body: (model) => ({ model, messages: [{ role: 'user', content: 'hi' }] }) },
  { label: 'streamed chat', models: ['claude', 'gem', 'azure', 'oai'], path: '/v1/chat/completions', body: (model) => ({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }) },
  { label: 'embeddings', models: ['gem', 'azure', 'oai'], path: '/v1/embeddings', body: (model) => ({ model, input: ['a', 'b'] }) },
  { label: 'count_tokens', models: ['claude', 'gem'], path: '/v1/messages/count_tokens', body: (model) => ({ model, messages: [{ role: 'user', content: 'hi' }] }), style: 'anthropic' },
];

describe("a provider's redirect is not followed", () => {
  for (const [i, label] of [
    [0, 'createUpstreamFetch'],
    [1, 'global fetch'],
  ] as const) {
    for (const call of calls) {
      for (const model of call.models) {
        it(`${call.label} on ${model} via ${label}: a 502 naming the redirect; the key never reaches the other origin`, async () => {
          seen = [];
          asked = [];
          const gw = gws[i]!;
          const headers: Record<string, string> = { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' };
          if (call.style === 'anthropic') headers['anthropic-version'] = '2023-06-01';
          const answer = await send(gw.url, 'POST', call.path, JSON.stringify(call.body(model)), headers);
          const error = expectGatewayError(answer, { status: 502, code: 'provider_error', ...(call.style ? { style: call.style } : {}) }, `${call.label} ${model}`);
          expect(error.message).toMatch(/redirect \(HTTP 307\) to another address/);
          expect(answer.body).not.toContain(SIGNED);
          expect(answer.body).not.toContain(otherPort);
          // The other origin got nothing (no key, no prompt), and the deployment was asked once: not retried.
          expect(seen).toEqual([]);
          expect(asked).toHaveLength(1);
        });
      }
    }
  }
});

describe('a redirect within the origin', () => {
  for (const [i, label] of [
    [0, 'createUpstreamFetch'],
    [1, 'global fetch'],
  ] as const) {
    it(`a proxy's trailing-slash 308 (a relative Location) is followed via ${label}: the answer arrives, the key went nowhere else`, async () => {
      seen = [];
      asked = [];
      keys = [];
      const gw = gws[i]!;
      const answer = await send(gw.url, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'slash', messages: [{ role: 'user', content: 'hi' }] }), {
        authorization: `Bearer ${gw.secret}`,
        'content-type': 'application/json',
      });
      expect(answer.status, answer.body).toBe(200);
      expect((JSON.parse(answer.body) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('answered');
      expect(asked).toEqual(['/slash/v1/chat/completions', '/slash/v1/chat/completions/']);
      expect(keys).toEqual(['Bearer sk-SLASH-KEY-0123456789', 'Bearer sk-SLASH-KEY-0123456789']);
      expect(seen).toEqual([]);
    });

    it(`a refused redirect's target, origin and path without the query, is in the error's details for the server log (via ${label})`, async () => {
      const router = new LLMRouter(
        { models: [{ name: 'main', engine: 'openai-compatible', baseURL: `${proxyUrl}/v1`, model: 'gpt-test', apiKey: 'k' }], routing: { retries: { max: 0 } } },
        { env: {}, ...(i === 0 ? { fetch: upstreamFetch } : {}) },
      );
      try {
        const error = (await router.generate('hi').catch((e: unknown) => e)) as { code?: string; details?: unknown; message?: string };
        expect(error).toMatchObject({ code: 'provider_error', details: { redirectTo: `http://localhost:${otherPort}/v1/chat/completions` } });
        expect(error.message).not.toContain(SIGNED);
      } finally {
        await router.close();
      }
    });
  }
});

describe('a Location at the same origin that is no plain http(s) address', () => {
  /** One call through a router on `base` (retries allowed: a refused redirect is asked once all the same). */
  async function refused(base: string, fetch: UpstreamFetch | undefined): Promise<{ code?: string; message: string; details?: unknown }> {
    const router = new LLMRouter(
      { models: [{ name: 'main', engine: 'openai-compatible', baseURL: `${proxyUrl}${base}`, model: 'gpt-test', apiKey: 'k' }], routing: { retries: { max: 2 } } },
      { env: {}, ...(fetch ? { fetch } : {}) },
    );
    try {
      const error = (await router.generate('hi').catch((e: unknown) => e)) as { code?: string; details?: unknown; message: string };
      // Nothing of the Location's credentials or query, in the message or the log's details.
      expect(`${error.message} ${JSON.stringify(error.details ?? null)}`).not.toMatch(new RegExp(`${LOCATION_PASSWORD}|${SIGNED}`));
      return error;
    } finally {
      await router.close();
    }
  }

  for (const [i, label] of [
    [0, 'createUpstreamFetch'],
    [1, 'global fetch'],
  ] as const) {
    const fetch = () => (i === 0 ? upstreamFetch : undefined);

    it(`a user name and password in the Location: refused as such via ${label} (a provider_error asked once, never an internal error quoting it)`, async () => {
      asked = [];
      const error = await refused('/creds/v1', fetch());
      expect(error).toMatchObject({ code: 'provider_error', details: { redirectTo: `${proxyUrl}/creds/v1/chat/completions/` } });
      expect(error.message).toMatch(/redirect \(HTTP 307\) with credentials in its Location/);
      expect(asked).toEqual(['/creds/v1/chat/completions']);
    });

    it(`a blob: Location whose inner origin is the request's: refused as another address via ${label} (asked once; the log has its scheme only)`, async () => {
      asked = [];
      const error = await refused('/blob/v1', fetch());
      expect(error).toMatchObject({ code: 'provider_error', details: { redirectTo: 'blob:' } });
      expect(error.message).toMatch(/redirect \(HTTP 307\) to another address/);
      expect(asked).toEqual(['/blob/v1/chat/completions']);
    });
  }
});

describe('a baseURL with a user name or password', () => {
  const PASSWORD = 'BASEURL-PASSWORD';
  const withUserInfo = () => proxyUrl.replace('http://', `http://user:${PASSWORD}@`);

  /** The error constructing a router over `model` throws (undefined when none). */
  function configError(model: Record<string, unknown>): { code?: string; param?: string; message: string } | undefined {
    try {
      const router = new LLMRouter({ models: [{ name: 'main', apiKey: 'k', ...model }] }, { env: {}, fetch: upstreamFetch });
      void router.close();
      return undefined;
    } catch (e) {
      return e as { code?: string; param?: string; message: string };
    }
  }

  for (const [engine, base] of [
    ['openai-compatible', () => `${withUserInfo()}/v1`],
    ['anthropic', withUserInfo],
    ['gemini', withUserInfo],
  ] as const) {
    it(`${engine}: refused at config load (config_invalid naming the baseURL, the password not quoted)`, () => {
      const error = configError({ engine, baseURL: base(), model: 'm' });
      expect(error).toMatchObject({ code: 'config_invalid', param: 'models.0.baseURL' });
      expect(error!.message).toMatch(/user name or password/);
      expect(`${error!.message} ${JSON.stringify(error)}`).not.toContain(PASSWORD);
    });
  }

  it("openai-compatible: a preset's base URL from its environment variable with user info is refused as well (nothing asked)", async () => {
    asked = [];
    const env = { AZURE_OPENAI_ENDPOINT: withUserInfo(), AZURE_OPENAI_API_KEY: 'k' };
    const models = [{ name: 'main', engine: 'openai-compatible', preset: 'azure-openai', model: 'gpt-4o-mini' }];
    let error: { code?: string; param?: string; message: string };
    let router: LLMRouter | undefined;
    try {
      router = new LLMRouter({ models, routing: { retries: { max: 0 } } }, { env, fetch: upstreamFetch });
      error = (await router.generate('hi').catch((e: unknown) => e)) as typeof error;
    } catch (e) {
      error = e as typeof error;
    } finally {
      await router?.close();
    }
    expect(error).toMatchObject({ code: 'config_invalid', param: 'models.main.baseURL' });
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(PASSWORD);
    expect(asked).toEqual([]);
  });

  it('basic auth sent in `headers` instead: the trailing-slash 308 is followed as for any deployment', async () => {
    asked = [];
    const router = new LLMRouter(
      {
        models: [{ name: 'main', engine: 'openai-compatible', baseURL: `${proxyUrl}/slash/v1`, model: 'gpt-test', apiKey: 'k', headers: { authorization: `Basic ${btoa(`user:${PASSWORD}`)}` } }],
        routing: { retries: { max: 0 } },
      },
      { env: {}, fetch: upstreamFetch },
    );
    try {
      expect((await router.generate('hi')).text).toBe('answered');
      expect(asked).toEqual(['/slash/v1/chat/completions', '/slash/v1/chat/completions/']);
    } finally {
      await router.close();
    }
  });
});
