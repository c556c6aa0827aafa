import {
  anthropicMessageBody,
  startAnthropicWireServer,
  startGeminiWireServer,
  startOpenAIWireServer,
  type AnthropicWireServer,
  type GeminiWireServer,
  type OpenAIWireServer,
} from '@llmrr/core/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingOpenAI, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// An upstream 404 is the deployment's configuration, never the client's 404 (the client named a model the gateway
// has), and only the provider's words say which configuration:
// - its model id is wrong (a typo, a retired model): OpenAI `model_not_found` "The model `gpt-4o-typo` does not exist
//   or you do not have access to it.", Anthropic `not_found_error` "model: claude-typo", Gemini NOT_FOUND
//   "models/gemini-typo is not found for API version v1beta": a 502 `provider_model_not_found` naming the deployment
//   (no key), a failure of that deployment, so the call falls over to the next one;
// - anything else (a base URL or proxy without that endpoint): a 502 `provider_error` naming the path asked, also
//   the deployment's failure;
// - OpenRouter's "No endpoints found that support tool use": what this request asks, not the deployment
//   (`unsupported`, its circuit left be; other requests are served);
// - a count endpoint's 404 (a proxy without /v1/messages/count_tokens): the local estimate.
// Every one is permanent: the official clients are told not to retry it (`x-should-retry: false`). The gateway's own
// unknown-model answer stays a 404 `model_not_found`.

// The keys the upstreams get, which they echo in their error messages: the gateway must not pass them on.
const KEYS = { gpt: 'sk-secret-openai-0123456789', claude: 'sk-ant-secret-0123456789', gem: 'AIzaSyB-secret_gemini-0123456789abcdefX' } as const;

let gw: SdkGateway;
let openai: OpenAIWireServer;
let anthropic: AnthropicWireServer;
let gemini: GeminiWireServer;
let good: OpenAIWireServer;
let proxy: Server;
const proxied: string[] = [];
beforeAll(async () => {
  openai = await startOpenAIWireServer({
    script: (r) => ({
      error: {
        status: 404,
        type: 'invalid_request_error',
        code: 'model_not_found',
        message: `The model \`${(r.body as { model: string }).model}\` does not exist or you do not have access to it (${String(r.headers.authorization)}).`,
      },
    }),
  });
  anthropic = await startAnthropicWireServer({
    handler: (r) => ({ error: { status: 404, type: 'not_found_error', message: `model: ${(r.body as { model: string }).model} (for ${String(r.headers['x-api-key'])})` } }),
  });
  gemini = await startGeminiWireServer({
    apiKey: KEYS.gem,
    handler: (r) => ({ error: { status: 404, message: `models/gemini-typo is not found for API version v1beta, or is not supported for generateContent (${String(r.headers['x-goog-api-key'])}).` } }),
  });
  good = await startOpenAIWireServer({ script: { text: 'served by the fallback' } });
  // An Anthropic-compatible proxy (LiteLLM/FastAPI style) that serves /v1/messages only: no count_tokens route, no
  // OpenAI routes (a deployment given it as an OpenAI-compatible base URL by mistake).
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      proxied.push(path);
      if (path === '/v1/messages') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(anthropicMessageBody({ content: 'ok' }, body)));
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: 'Not Found' }));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const chat = ['chat', 'streaming'] as const;
  gw = await servedGateway({
    models: [
      { name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: openai.baseURL, model: 'gpt-4o-typo', apiKey: KEYS.gpt, capabilities: [...chat] },
      { name: 'claude', engine: 'anthropic', baseURL: anthropic.url, model: 'claude-typo', apiKey: KEYS.claude, capabilities: [...chat] },
      { name: 'gem', engine: 'gemini', baseURL: gemini.url, model: 'gemini-typo', apiKey: KEYS.gem, capabilities: [...chat] },
      { name: 'backup', engine: 'openai-compatible', baseURL: good.baseURL, model: 'x', apiKey: 'k', capabilities: [...chat] },
      { name: 'proxied', engine: 'anthropic', baseURL: proxyUrl, model: 'claude-sonnet-4-5', apiKey: 'k', capabilities: [...chat], options: { exactTokenCount: true } },
      { name: 'wrong-url', engine: 'openai-compatible', baseURL: `${proxyUrl}/v1`, model: 'x', apiKey: 'k', capabilities: [...chat] },
    ],
    upstreams: [openai, anthropic, gemini, good],
  });
});
afterAll(async () => {
  await gw?.close();
  proxy?.closeAllConnections();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
});

const failure = (e: unknown) => ({ status: (e as { status?: number }).status, error: (e as { error?: { error?: unknown } & Record<string, unknown> }).error });

describe("an upstream 404 for the deployment's model id", () => {
  it.each(['gpt', 'claude', 'gem'] as const)('%s: a 502 provider_model_not_found naming the deployment, streamed or not; the key the upstream echoed is redacted', async (model) => {
    for (const stream of [false, true]) {
      const call = async (): Promise<void> => {
        const answer = await gw.openai().chat.completions.create({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
        if (stream) for await (const chunk of answer as AsyncIterable<unknown>) void chunk;
      };
      const e = await call().then(() => expect.fail('answered'), failure);
      expect(e.status).toBe(502);
      expect(e.error).toMatchObject({ type: 'api_error', code: 'provider_model_not_found', param: null });
      const message = (e.error as { message: string }).message;
      expect(message).toContain(`Deployment "${model}" is misconfigured: its upstream provider does not know its model`);
      // Worded once, though the reply path makes the error public twice.
      expect(message.match(/is misconfigured/g)).toHaveLength(1);
      // The upstream's message quoted the key it got: the gateway passes the message on with the key redacted.
      expect(message).toContain('[redacted]');
      expect(message).not.toContain(KEYS[model]);
      expect(message).not.toMatch(/secret/);
    }
  });

  it('/v1/messages too: an api_error 502 for the Anthropic client', async () => {
    const e = await gw
      .anthropic()
      .messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => expect.fail('answered'), failure);
    expect(e.status).toBe(502);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'api_error', code: 'provider_model_not_found' } });
  });

  // The gateway fell over already; the official clients retry a 5xx twice unless told not to, which would run the
  // whole failing plan three times.
  it('is not retried by the official client (x-should-retry: false): one upstream request', async () => {
    const { client, sent } = countingOpenAI(gw);
    const before = openai.requests.length;
    const e = (await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }).catch((x: unknown) => x)) as { status?: number; headers?: Headers };
    expect(e.status).toBe(502);
    expect({ clientSent: sent(), upstreamAsked: openai.requests.length - before, shouldRetry: e.headers?.get('x-should-retry') ?? null }).toEqual({
      clientSent: 1,
      upstreamAsked: 1,
      shouldRetry: 'false',
    });
  }, 30_000);

  // (Pins behaviour the 404 had before it became provider_model_not_found: a non-retryable failure falls over.)
  it('counts as the deployment failing (a strike on its stats and circuit), and the call falls over to the next deployment', async () => {
    const before = { failures: gw.harness.router.stats()['gpt']!.failures, asked: openai.requests.length };
    expect(gw.harness.router.circuits().find((c) => c.deployment === 'gpt')?.state).toBe('closed');
    const answer = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], llmrr: { fallbacks: ['backup'] } } as never);
    expect((answer as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('served by the fallback');
    // Asked once (not retried), and that failure struck the deployment, as a wrong base URL's 404 does.
    expect({ asked: openai.requests.length - before.asked, failures: gw.harness.router.stats()['gpt']!.failures - before.failures }).toEqual({ asked: 1, failures: 1 });
  });

  it("the gateway's own unknown model stays a 404 model_not_found", async () => {
    const e = await gw.openai().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }).then(() => expect.fail('answered'), failure);
    expect(e.status).toBe(404);
    expect(e.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });
});

describe('an upstream 404 that names no model', () => {
  it('a base URL without the endpoint: a 502 provider_error naming the path, not retried, counted against the deployment', async () => {
    const { client, sent } = countingOpenAI(gw);
    const before = gw.harness.router.stats()['wrong-url']!.failures;
    const e = (await client.chat.completions.create({ model: 'wrong-url', messages: [{ role: 'user', content: 'hi' }] }).catch((x: unknown) => x)) as {
      status?: number;
      headers?: Headers;
      error?: { code?: string; message?: string };
    };
    expect(e.status).toBe(502);
    expect(e.error).toMatchObject({ code: 'provider_error', message: 'openai-compatible answered 404 for /v1/chat/completions: wrong base URL or endpoint? (Not Found)' });
    expect({ clientSent: sent(), shouldRetry: e.headers?.get('x-should-retry') ?? null }).toEqual({ clientSent: 1, shouldRetry: 'false' });
    expect(gw.harness.router.stats()['wrong-url']!.failures).toBe(before + 1);
    const answer = await gw.openai().chat.completions.create({ model: 'wrong-url', messages: [{ role: 'user', content: 'hi' }], llmrr: { fallbacks: ['backup'] } } as never);
    expect((answer as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('served by the fallback');
  }, 30_000);

  it('a proxy without the count_tokens endpoint: count_tokens answers the local estimate, marked estimate; calls are served', async () => {
    const message = await gw.anthropic().messages.create({ model: 'proxied', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    const before = proxied.filter((p) => p === '/v1/messages/count_tokens').length;
    const { data, response } = await gw
      .anthropic()
      .messages.countTokens({ model: 'proxied', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(proxied.filter((p) => p === '/v1/messages/count_tokens').length).toBe(before + 1);
    expect(data.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(gw.harness.router.circuits().find((c) => c.deployment === 'proxied')?.state).toBe('closed');
  });
});

// OpenRouter (a preset of core) answers 404 `{"error":{"message":"No endpoints found that support tool use. ...",
// "code":404}}` (also "... support the provided 'tool_choice' value", "... support image input") when no provider
// behind the model takes what THIS request asks: the same deployment serves plain calls.
describe("a request-shape 404 (OpenRouter's No endpoints found that support ...)", () => {
  const NO_TOOLS = 'No endpoints found that support tool use. To learn more about provider routing, visit: https://openrouter.ai/docs/provider-routing';
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
  let or: SdkGateway;
  let upstream: OpenAIWireServer;
  beforeAll(async () => {
    upstream = await startOpenAIWireServer({
      script: (r) => ((r.body as { tools?: unknown }).tools ? { error: { status: 404, body: { error: { message: NO_TOOLS, code: 404 } } } } : { text: 'plain answer' }),
    });
    or = await servedGateway({
      models: [{ name: 'or', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'deepseek/deepseek-r1:free', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] }],
      routing: { circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } },
      upstreams: [upstream],
    });
  });
  afterAll(() => or?.close());
  const withTools = () => or.openai().chat.completions.create({ model: 'or', tools, messages: [{ role: 'user', content: 'hi' }] });

  it("is the provider's refusal of the request (unsupported), not a wrong model id", async () => {
    const e = (await withTools().catch((x: unknown) => x)) as { status?: number; error?: { code?: string; message?: string } };
    expect(e.status).toBe(400);
    expect(e.error?.code).toBe('unsupported');
    expect(e.error?.message ?? '').toContain('No endpoints found that support tool use');
  });

  it("a client's requests with tools do not open the circuit of a deployment that serves plain calls", async () => {
    for (let i = 0; i < 2; i++) await withTools().catch(() => undefined);
    expect(or.harness.router.circuits().find((c) => c.deployment === 'or')?.state).toBe('closed');
    const plain = await or.openai().chat.completions.create({ model: 'or', messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.choices[0]!.message.content).toBe('plain answer');
  });
});
