import { LLMError } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, get, post, type Harness } from '../test-support/harness.js';
import { parseCorsOptions } from './public-cors.js';

const APP = 'https://app.example.com';
const ADMIN = 'admin-secret-for-tests-0123456789';
const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello' }] };

const preflight = (h: Harness, path: string, origin: string, headers = 'authorization, content-type, x-stainless-os') =>
  h.gateway.fetch(
    new Request(`http://gateway.test${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
    }),
  );

describe('CORS for the public API', () => {
  let h: Harness;
  let secret: string;
  beforeAll(async () => {
    h = await createHarness({ stores: 'memory', gateway: { cors: { origins: [APP, 'http://localhost:5173'], maxAgeSeconds: 120 }, auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 100 } });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'web' })).secret;
  });
  afterAll(() => h.close());

  it('answers a preflight from an allowed origin: 204, methods, the requested headers, max age', async () => {
    const res = await preflight(h, '/v1/chat/completions', APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization,content-type,x-stainless-os');
    expect(res.headers.get('access-control-max-age')).toBe('120');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toContain('Origin');
    expect((await preflight(h, '/v1/messages', 'http://localhost:5173', 'x-api-key, anthropic-version')).headers.get('access-control-allow-headers')).toBe('x-api-key,anthropic-version');
  });

  it('lets an allowed page read answers, errors and the exposed headers', async () => {
    const res = await post(h.gateway, '/v1/chat/completions', chat, { origin: APP, authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    const exposed = res.headers.get('access-control-expose-headers')!.split(',');
    expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'x-llmrr-model', 'x-llmrr-cost-usd', 'x-ratelimit-remaining', 'retry-after']));
    for (const name of ['x-request-id', 'x-llmrr-model', 'x-ratelimit-remaining']) expect(res.headers.get(name)).not.toBeNull();
    const denied = await post(h.gateway, '/v1/chat/completions', chat, { origin: APP, authorization: 'Bearer llmrr_wrong' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(APP);
    const models = await get(h.gateway, '/v1/models', { origin: APP, authorization: `Bearer ${secret}` });
    expect(models.headers.get('access-control-allow-origin')).toBe(APP);
    const legacy = await get(h.gateway, '/api/health', { origin: APP });
    expect(legacy.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives other origins nothing, and never covers admin, metrics or health', async () => {
    const other = await preflight(h, '/v1/chat/completions', 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const res = await post(h.gateway, '/v1/chat/completions', chat, { origin: 'https://evil.example', authorization: `Bearer ${secret}` });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    for (const path of ['/admin/tenants', '/metrics', '/health']) {
      const r = await get(h.gateway, path, { origin: APP, authorization: `Bearer ${ADMIN}` });
      expect(r.headers.get('access-control-allow-origin'), path).toBeNull();
      const p = await preflight(h, path, APP);
      expect(p.headers.get('access-control-allow-origin'), path).toBeNull();
      expect(p.status, path).not.toBe(204);
    }
  });

  it('sends the headers over the Node server too (streamed answers included)', async () => {
    let served: ServedGateway | undefined;
    try {
      served = await serveGateway(h.gateway, { port: 0 });
      const res = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { origin: APP, authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...chat, stream: true }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(await res.text()).toContain('[DONE]');
      const pre = await fetch(`${served.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'POST' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
    } finally {
      await served?.close(500);
    }
  });

  it('allows any origin with "*"', async () => {
    const any = await createHarness({ gateway: { cors: { origins: '*' } } });
    try {
      const res = await post(any.gateway, '/v1/chat/completions', chat, { origin: 'https://anything.example' });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect((await preflight(any, '/v1/completions', 'https://x.example')).status).toBe(204);
    } finally {
      await any.close();
    }
  });

  it('is off by default: no CORS headers, and OPTIONS is not allowed', async () => {
    const plain = await createHarness();
    try {
      const res = await post(plain.gateway, '/v1/chat/completions', chat, { origin: APP });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(plain, '/v1/chat/completions', APP)).status).toBe(405);
    } finally {
      await plain.close();
    }
  });

  it('refuses bad options by name', () => {
    const param = (o: unknown) => {
      try {
        parseCorsOptions(o as never);
        return 'no error';
      } catch (e) {
        return LLMError.isInstance(e) ? e.param : String(e);
      }
    };
    expect(param({ origins: [] })).toBe('cors.origins');
    expect(param({ origins: ['https://ok.example', 'not a url'] })).toBe('cors.origins.1');
    expect(param({ origins: ['https://ok.example/path'] })).toBe('cors.origins.0');
    expect(param({ origins: ['ftp://files.example'] })).toBe('cors.origins.0');
    expect(param({ origins: '*', maxAgeSeconds: -1 })).toBe('cors.maxAgeSeconds');
    expect(parseCorsOptions({ origins: ['https://ok.example/'] }).origins).toEqual(['https://ok.example']);
  });
});
