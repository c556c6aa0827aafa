import { APIError } from 'openai';
import { startAnthropicWireServer, startOpenAIWireServer, type AnthropicWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A provider's 429 on the gateway's own account (a shared deployment's, which every tenant's calls use) names that
// account and its use so far: a tenant sees the limit and its own request's figure, never the organization id nor the
// account's use (the other tenants' traffic). `redactUpstreamMessage`.
// OpenAI's and Anthropic's own 429 texts.
const ORG = 'org-AbCdEfGhIjKlMnOpQrStUvWx';
const OPENAI_429 = `Rate limit reached for gpt-4o-mini in organization ${ORG} on tokens per min (TPM): Limit 200000, Used 199500, Requested 1200. Please try again in 210ms. Visit https://platform.openai.com/account/rate-limits to learn more.`;
const ANTHROPIC_ORG = '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const ANTHROPIC_429 = `This request would exceed the rate limit for your organization (${ANTHROPIC_ORG}) of 80,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.`;

let gptUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  gptUp = await startOpenAIWireServer({ script: { error: { status: 429, message: OPENAI_429, type: 'tokens', code: 'rate_limit_exceeded' } } });
  claudeUp = await startAnthropicWireServer({ apiKey: 'ak', handler: () => ({ error: { status: 429, type: 'rate_limit_error', message: ANTHROPIC_429 } }) });
  gw = await servedGateway({
    models: [
      { name: 'gpt', engine: 'openai-compatible', baseURL: gptUp.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'claude', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-sonnet-4-5', apiKey: 'ak', capabilities: ['chat', 'streaming'] },
    ],
    upstreams: [gptUp, claudeUp],
  });
});
afterAll(() => gw?.close());

async function failure(model: string): Promise<APIError> {
  const e = await gw.openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(APIError);
  return e as APIError;
}

describe("a provider's 429 on the shared account, as a tenant sees it", () => {
  it("OpenAI: a 429 with the limit and this request's figure, without the organization id or the account's use (JSON and stream)", async () => {
    const e = await failure('gpt');
    expect(e.status).toBe(429);
    expect(e.message).toContain('Rate limit reached for gpt-4o-mini in organization [redacted] on tokens per min (TPM): Limit 200000, Used [redacted], Requested 1200.');
    expect(e.message).not.toContain(ORG);
    expect(e.message).not.toContain('199500');
    const streamed = await gw
      .openai()
      .chat.completions.create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'Hi' }] })
      .then(() => undefined, (err: unknown) => err);
    expect(streamed).toBeInstanceOf(APIError);
    expect((streamed as APIError).message).not.toContain(ORG);
    expect((streamed as APIError).message).not.toContain('199500');
  });

  it('Anthropic: a 429 without the organization id', async () => {
    const e = await failure('claude');
    expect(e.status).toBe(429);
    expect(e.message).toContain('the rate limit for your organization ([redacted]) of 80,000 input tokens per minute');
    expect(e.message).not.toContain(ANTHROPIC_ORG);
  });
});
