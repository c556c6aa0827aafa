import { APIError } from 'openai';
import { startAnthropicWireServer, startOpenAIWireServer, type AnthropicWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { UPSTREAM_BILLING_MESSAGE } from './error-body.js';

// The gateway's provider account out of credit is the operator's problem: an Anthropic deployment's "credit balance
// is too low", Gemini's "prepayment credits are depleted" (a 429) and OpenAI's 429 `insufficient_quota` ("You
// exceeded your current quota, please check your plan and billing details") are all `budget_exceeded` upstream
// errors, which reach the client as a 502 `provider_error` with a generic message (`toPublicError`: a 402 would tell
// the client its own budget is spent, a 429 that it is rate limited, and the official clients retry a 429).


const OPENAI_QUOTA = 'You exceeded your current quota, please check your plan and billing details.';
const ANTHROPIC_CREDIT = 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.';

let gptUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  gptUp = await startOpenAIWireServer({ script: { error: { status: 429, message: OPENAI_QUOTA, type: 'insufficient_quota', code: 'insufficient_quota' } } });
  claudeUp = await startAnthropicWireServer({ apiKey: 'ak', handler: () => ({ error: { status: 400, type: 'invalid_request_error', message: ANTHROPIC_CREDIT } }) });
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
  const e = await gw
    .openai()
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] })
    .then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(APIError);
  return e as APIError;
}

describe('the provider account out of credit, as the client sees it', () => {
  it('Anthropic "credit balance is too low": 502 with the generic billing message (the behaviour for billing)', async () => {
    const e = await failure('claude');
    expect(e.status).toBe(502);
    expect(e.message).toContain(UPSTREAM_BILLING_MESSAGE);
  });

  it('OpenAI 429 insufficient_quota: the same answer, not a 429 carrying the upstream account\'s billing message', async () => {
    const e = await failure('gpt');
    expect(e.message).not.toContain(OPENAI_QUOTA);
    expect(e.status).toBe(502);
    expect(e.message).toContain(UPSTREAM_BILLING_MESSAGE);
  });
});
