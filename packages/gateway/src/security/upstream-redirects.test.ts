/**
 * An upstream (a misconfigured proxy or load balancer in front of the provider) that answers a redirect to another
 * origin. Fetch drops `Authorization` on a cross-origin redirect, but not the providers' own key headers (Anthropic's
 * `x-api-key`, Gemini's `x-goog-api-key`, Azure's `api-key`): provider calls do not follow redirects at all. The
 * client gets a 502 `provider_error` naming the redirect (not its `Location`), the deployment is not asked again, and
 * the other origin is never reached: through the gateway's upstream client (`createUpstreamFetch`) and global fetch,
 * for chat (streamed or not), embeddings and the providers' token counts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamFetch, type UpstreamFetch } from '../node/upstream-fetch.js';
import { expectGatewayError } from '../test-support/expect-error.js';
import type { ModelInput } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const sockets = new Set<Socket>();
function track(s: Server): Server {
  s.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  return s;
}
async function listen(s: Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

/** What the other origin was sent, and the paths the redirecting proxy was asked. */
let seen: IncomingHttpHeaders[] = [];
let asked: string[] = [];
let other: Server;
let proxy: Server;
let otherPort: number;
let upstreamFetch: UpstreamFetch;
const gws: SdkGateway[] = [];
/** A query secret in the Location: the client's error must not quote it. */
const SIGNED = 'sig=LOCATION-SIGNATURE';

beforeAll(async () => {
  // The other origin (`localhost` vs `127.0.0.1`: another origin for fetch) records what it is sent.
  other = track(
    createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    }),
  );
  otherPort = await listen(other);
  proxy = track(
    createServer((req, res) => {
      asked.push(req.url!);
      req.resume();
      res.writeHead(307, { location: `http://localhost:${otherPort}${req.url}${req.url!.includes('?') ? '&' : '?'}${SIGNED}` });
      res.end();
    }),
  );
  const proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
  upstreamFetch = createUpstreamFetch();
  const models: ModelInput[] = [
    { name: 'claude', engine: 'anthropic', baseURL: proxyUrl, model: 'claude-test', apiKey: 'sk-ant-SECRET-KEY-0123456789', capabilities: ['chat', 'streaming'], options: { exactTokenCount: true } },
    { name: 'gem', engine: 'gemini', baseURL: proxyUrl, model: 'gemini-2.5-flash', apiKey: 'AIzaSECRETKEY0123456789', capabilities: ['chat', 'streaming', 'embeddings'], options: { exactTokenCount: true } },
    { name: 'azure', engine: 'openai-compatible', preset: 'azure-openai', baseURL: proxyUrl, model: 'gpt-4o-mini', apiKey: 'azure-SECRET-KEY-0123456789', capabilities: ['chat', 'streaming', 'embeddings'] },
    { name: 'oai', engine: 'openai-compatible', baseURL: `${proxyUrl}/v1`, model: 'gpt-test', apiKey: 'sk-SECRET-KEY-0123456789', capabilities: ['chat', 'streaming', 'embeddings'] },
  ];
  // Retries allowed: a redirect must still be asked once only.
  const routing = { strategy: 'priority', retries: { max: 2 } } as const;
  gws.push(await servedGateway({ models, routing, routerOptions: { env: {}, fetch: upstreamFetch } }));
  gws.push(await servedGateway({ models, routing }));
});
afterAll(async () => {
  for (const g of gws) await g.close();
  await upstreamFetch?.close();
  for (const s of sockets) s.destroy();
  await Promise.all([other, proxy].map((s) => new Promise<void>((r) => s.close(() => r()))));
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
          expect(error.message).toMatch(/redirect \(HTTP 307\)/);
          expect(answer.body).not.toContain(SIGNED);
          expect(answer.body).not.toContain(String(otherPort));
          // The other origin got nothing (no key, no prompt), and the deployment was asked once: not retried.
          expect(seen).toEqual([]);
          expect(asked).toHaveLength(1);
        });
      }
    }
  }
});
