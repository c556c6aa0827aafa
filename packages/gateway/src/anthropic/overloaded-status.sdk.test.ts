import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';

// An upstream overloaded (Anthropic's 529 `overloaded_error`) reaches an Anthropic client of /v1/messages as Anthropic's
// own API answers it: 529 `overloaded_error` (the official client's `OverloadedError`, which it retries), with the
// upstream's Retry-After and without `x-should-retry` (the clients' own retry policy decides, as for any 5xx). The
// OpenAI routes keep their 503 (`ServiceUnavailableError`, retried by the openai client), which an OpenAI client knows.

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  claudeUp = await startAnthropicWireServer({
    apiKey: 'ak',
    handler: () => ({ error: { status: 529, message: 'Overloaded', headers: { 'retry-after': '7' } } }),
  });
  gw = await servedGateway({
    models: [{ name: 'claude', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-sonnet-4-5', apiKey: 'ak', capabilities: ['chat', 'streaming'] }],
    upstreams: [claudeUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const ask = { model: 'claude', max_tokens: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };

async function anthropicFailure(stream: boolean): Promise<InstanceType<typeof Anthropic.APIError>> {
  const client = gw.anthropic();
  const call = stream ? client.messages.create({ ...ask, stream: true }).then(async (s) => { for await (const _ of s); }) : client.messages.create(ask);
  const e = await call.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(Anthropic.APIError);
  expect(claudeUp.requests.length).toBeGreaterThan(0);
  return e as InstanceType<typeof Anthropic.APIError>;
}

describe('an overloaded upstream on /v1/messages', () => {
  it('is a 529 overloaded_error (OverloadedError), with the upstream Retry-After and no x-should-retry', async () => {
    const e = await anthropicFailure(false);
    expect(e).toBeInstanceOf(Anthropic.OverloadedError);
    expect(e.status).toBe(529);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(e.headers?.get('retry-after')).toBe('7');
    expect(e.headers?.get('x-should-retry')).toBeNull();
  });

  it('streamed, failing before the first event: the same 529', async () => {
    const e = await anthropicFailure(true);
    expect(e).toBeInstanceOf(Anthropic.OverloadedError);
    expect(e.status).toBe(529);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });
});

describe('the same upstream on the OpenAI routes', () => {
  it('chat completions answer 503 overloaded_error (ServiceUnavailableError), as before', async () => {
    const e = await gw
      .openai()
      .chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] })
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((e as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'overloaded_error' });
  });
});

// With fallbacks the answer is the last deployment's failure, whatever the ones before it said: a 529 only when the
// deployment tried last was overloaded, not because one tried before it was.
describe('an overloaded upstream with a fallback across providers', () => {
  let up: WireUpstreams;
  let fgw: SdkGateway;

  beforeAll(async () => {
    ({ gw: fgw, upstreams: up } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gpt')], {
      anthropic: { handler: () => ({ error: { status: 529, message: 'Overloaded' } }) },
      routing: { fallbacks: { claude: ['gpt'], gpt: ['claude'] } },
    }));
  });
  afterAll(() => fgw?.close());
  afterEach(() => clearRequests(up.anthropic, up.openai));

  async function failureOf(model: string): Promise<InstanceType<typeof Anthropic.APIError>> {
    const e = await fgw
      .anthropic()
      .messages.create({ ...ask, model })
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(Anthropic.APIError);
    expect(up.anthropic.requests.length).toBeGreaterThan(0);
    expect(up.openai.requests.length).toBeGreaterThan(0);
    return e as InstanceType<typeof Anthropic.APIError>;
  }

  it('Anthropic overloaded, then the OpenAI fallback fails with a 500: the 500 is answered (api_error), not a 529', async () => {
    up.openai.setScript({ error: { status: 500, message: 'boom' } });
    const e = await failureOf('claude');
    expect(e).not.toBeInstanceOf(Anthropic.OverloadedError);
    expect(e.status).toBe(502);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
  });

  it('Anthropic overloaded, then the OpenAI fallback rate limited: a 429 rate_limit_error', async () => {
    up.openai.setScript({ error: { status: 429, message: 'slow down', code: 'rate_limit_exceeded' } });
    const e = await failureOf('claude');
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('the OpenAI deployment failing first, then the Anthropic fallback overloaded: the 529 (OverloadedError)', async () => {
    up.openai.setScript({ error: { status: 500, message: 'boom' } });
    const e = await failureOf('gpt');
    expect(e).toBeInstanceOf(Anthropic.OverloadedError);
    expect(e.status).toBe(529);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });
});
