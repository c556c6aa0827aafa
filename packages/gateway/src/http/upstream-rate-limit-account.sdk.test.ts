import { APIError } from 'openai';
import { startAnthropicWireServer, startGeminiWireServer, startOpenAIWireServer, type AnthropicWireServer, type GeminiWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A provider's 429 on the gateway's own account (a shared deployment's, which every tenant's calls use) names that
// account and its use so far (the other tenants' traffic), in wordings no redaction covers: a tenant gets the gateway's
// own wording instead (the kind of limit, the limit, the wait in whole seconds, also as `retry-after`). A tenant's own
// model (its own account) keeps its provider's text. Provider texts as published in public bug reports.
// OpenAI (BuilderIO/micro-agent#86, org id replaced): the wait is (Used + Requested - Limit) / Limit minutes, so with
// Limit, Requested and the wait kept, Used is one line of arithmetic away.
const ORG = 'org-AbCdEfGhIjKlMnOpQrStUvWx';
const OPENAI_429 = `Rate limit reached for gpt-4o in organization ${ORG} on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms. Visit https://platform.openai.com/account/rate-limits to learn more.`;
// Groq (continuedev/continue#10920): its organization ids are `org_` + a 26-character ULID.
const GROQ_ORG = 'org_01kes94v04f9ramd2n1vj4gjnc';
const GROQ_429 = `Rate limit reached for model \`llama-3.3-70b-versatile\` in organization \`${GROQ_ORG}\` service tier \`on_demand\` on tokens per minute (TPM): Limit 12000, Used 4437, Requested 9854. Please try again in 11.455s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing`;
// Moonshot/Kimi (openai-compatible, farion1231/cc-switch#240).
const MOONSHOT_429 = 'request reached organization TPD rate limit, current: 1508351, limit: 1500000';
// Google's quota 429 names the Cloud project (its number is the account id of the gateway's Gemini key).
const GEMINI_429 = `Quota exceeded for quota metric 'Generate Content API requests per minute' and limit 'GenerateContent request limit per minute for a region' of service 'generativelanguage.googleapis.com' for consumer 'project_number:681255809395'.`;
const ANTHROPIC_ORG = '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const ANTHROPIC_429 = `This request would exceed the rate limit for your organization (${ANTHROPIC_ORG}) of 80,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.`;
// OpenAI's 429 on an embedding model's requests-per-minute limit (same shape as its chat models', org id replaced).
const OPENAI_EMBED_429 = `Rate limit reached for text-embedding-3-small in organization ${ORG} on requests per min (RPM): Limit 3000, Used 3000, Requested 1. Please try again in 20ms. Visit https://platform.openai.com/account/rate-limits to learn more.`;
const ADMIN = 'admin-secret-for-tests-0123456789';

let gptUp: OpenAIWireServer;
let embUp: OpenAIWireServer;
let groqUp: OpenAIWireServer;
let moonUp: OpenAIWireServer;
let gemUp: GeminiWireServer;
let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  gptUp = await startOpenAIWireServer({ script: { error: { status: 429, message: OPENAI_429, type: 'tokens', code: 'rate_limit_exceeded' } } });
  embUp = await startOpenAIWireServer({ script: { error: { status: 429, message: OPENAI_EMBED_429, type: 'requests', code: 'rate_limit_exceeded' } } });
  groqUp = await startOpenAIWireServer({ script: { error: { status: 429, message: GROQ_429, type: 'tokens', code: 'rate_limit_exceeded', headers: { 'retry-after': '12' } } } });
  moonUp = await startOpenAIWireServer({ script: { error: { status: 429, message: MOONSHOT_429, type: 'rate_limit_reached_error' } } });
  gemUp = await startGeminiWireServer({ handler: () => ({ error: { status: 429, message: GEMINI_429 } }) });
  claudeUp = await startAnthropicWireServer({ apiKey: 'ak', handler: () => ({ error: { status: 429, type: 'rate_limit_error', message: ANTHROPIC_429 } }) });
  gw = await servedGateway({
    models: [
      { name: 'gpt', engine: 'openai-compatible', baseURL: gptUp.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'emb', engine: 'openai-compatible', baseURL: embUp.baseURL, model: 'text-embedding-3-small', apiKey: 'k', capabilities: ['embeddings'] },
      { name: 'groq', engine: 'openai-compatible', baseURL: groqUp.baseURL, model: 'llama-3.3-70b-versatile', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'kimi', engine: 'openai-compatible', baseURL: moonUp.baseURL, model: 'kimi-k2', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'gem', engine: 'gemini', baseURL: gemUp.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'streaming'] },
      { name: 'claude', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-sonnet-4-5', apiKey: 'ak', capabilities: ['chat', 'streaming'] },
    ],
    routing: { retries: { max: 0 } },
    gateway: { auth: { adminKey: ADMIN } },
    upstreams: [gptUp, embUp, groqUp, moonUp, gemUp, claudeUp],
  });
});
afterAll(() => gw?.close());

async function failure(model: string, stream = false): Promise<APIError> {
  const e = await gw
    .openai()
    .chat.completions.create({ model, stream, messages: [{ role: 'user', content: 'Hi' }] })
    .then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(APIError);
  expect((e as APIError).status).toBe(429);
  return e as APIError;
}

/** Nothing of the provider's account: no id, no use, no requested figure, none of its own words. */
function expectNoAccount(message: string, ...hidden: string[]): void {
  for (const h of hidden) expect(message).not.toContain(h);
  expect(message).not.toMatch(/\b(?:used|current|requested|organization|project)\b/i);
}

describe("a provider's 429 on a shared deployment, as a tenant sees it: the gateway's own wording", () => {
  it('OpenAI: the limit kind and figure and the wait rounded up to whole seconds (also as retry-after), in JSON and stream', async () => {
    const e = await failure('gpt');
    expect(e.message).toBe("429 The upstream provider's rate limit for this model was reached (tokens per minute, limit 30000); try again in 1s.");
    expect(e.headers?.get('retry-after')).toBe('1');
    expectNoAccount(e.message, ORG, '29937', '385', '644');
    const streamed = await failure('gpt', true);
    expect(streamed.message).toBe(e.message);
    expect(streamed.headers?.get('retry-after')).toBe('1');
  });

  it('OpenAI on POST /v1/embeddings (embeddings.create): the same wording and retry-after, no organization id', async () => {
    const e = await gw
      .openai()
      .embeddings.create({ model: 'emb', input: 'Hi' })
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(APIError);
    expect((e as APIError).status).toBe(429);
    expect((e as APIError).message).toBe("429 The upstream provider's rate limit for this model was reached (requests per minute, limit 3000); try again in 1s.");
    expect((e as APIError).headers?.get('retry-after')).toBe('1');
    expect((e as APIError).error).toMatchObject({ code: 'rate_limited' });
    expectNoAccount((e as APIError).message, ORG, '3000, Used', '20ms');
    expect(embUp.requests).toHaveLength(1);
  });

  it("Groq: no `org_...` id; the provider's retry-after header is the wait shown", async () => {
    const e = await failure('groq');
    expect(e.message).toBe("429 The upstream provider's rate limit for this model was reached (tokens per minute, limit 12000); try again in 12s.");
    expect(e.headers?.get('retry-after')).toBe('12');
    expectNoAccount(e.message, GROQ_ORG, '4437', '9854');
  });

  it("Moonshot's `current: N, limit: M`: the limit only", async () => {
    const e = await failure('kimi');
    expect(e.message).toBe("429 The upstream provider's rate limit for this model was reached (tokens per day, limit 1500000).");
    expectNoAccount(e.message, '1508351');
  });

  it("Gemini: no Google Cloud project number", async () => {
    const e = await failure('gem');
    expect(e.message).toContain("The upstream provider's rate limit for this model was reached (requests per minute)");
    expectNoAccount(e.message, '681255809395');
  });

  it('Anthropic: no organization id', async () => {
    const e = await failure('claude');
    expect(e.message).toContain("The upstream provider's rate limit for this model was reached (input tokens per minute, limit 80000)");
    expectNoAccount(e.message, ANTHROPIC_ORG);
  });
});

describe("a provider's 429 on a tenant's own model (its own account)", () => {
  it("keeps the provider's text (credential redaction only)", async () => {
    const patched = await fetch(`${gw.url}/admin/tenants/acme`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        models: [
          { name: 'own-gpt', engine: 'openai-compatible', preset: 'vllm', baseURL: gptUp.baseURL, model: 'gpt-4o' },
          { name: 'own-emb', engine: 'openai-compatible', preset: 'vllm', baseURL: embUp.baseURL, model: 'text-embedding-3-small', capabilities: ['embeddings'] },
        ],
      }),
    });
    expect(patched.status).toBe(200);
    const e = await failure('own-gpt');
    // (The account id is redacted in every upstream message; the own account's figures stay.)
    expect(e.message).toContain(OPENAI_429.replace(ORG, '[redacted]'));
    // So on /v1/embeddings.
    const embed = await gw
      .openai()
      .embeddings.create({ model: 'own-emb', input: 'Hi' })
      .then(() => undefined, (err: unknown) => err);
    expect(embed).toMatchObject({ status: 429 });
    expect((embed as APIError).message).toContain(OPENAI_EMBED_429.replace(ORG, '[redacted]'));
  });
});
