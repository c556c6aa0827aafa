import { APIError } from 'openai';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A shared deployment's upstream rate limit reworded by the gateway: its edges.
const MAX_RETRY_AFTER_S = 86_400;

let longWaitUp: OpenAIWireServer;
let downUp: OpenAIWireServer;
let projUp: OpenAIWireServer;
let tooLargeUp: OpenAIWireServer;
const PROJ = 'proj_AbCdEfGhIjKlMnOpQrStUvWx';
let gw: SdkGateway;

beforeAll(async () => {
  // A 429 with no retry-after header whose message asks for two days (the wait is parsed from the message).
  longWaitUp = await startOpenAIWireServer({
    script: { error: { status: 429, message: 'Rate limit reached for gpt-4o on requests per day (RPD): Limit 100, Used 100, Requested 1. Please try again in 48h.', type: 'requests', code: 'rate_limit_exceeded' } },
  });
  // Always 503: the first attempt uses the deployment's rpm 1, the retry is skipped by the gateway's own deployment limit.
  downUp = await startOpenAIWireServer({ script: { error: { status: 503, message: 'overloaded', type: 'server_error' } } });
  // OpenAI's answer for a model the key's project may not use (403, code model_not_found): names the gateway's project.
  projUp = await startOpenAIWireServer({ script: { error: { status: 403, message: `Project \`${PROJ}\` does not have access to model \`gpt-5\``, type: 'invalid_request_error', code: 'model_not_found' } } });
  // OpenAI's 429 for a request larger than the whole per-minute limit: no wait cures it, only a smaller request.
  tooLargeUp = await startOpenAIWireServer({
    script: { error: { status: 429, message: 'Request too large for gpt-4o in organization org-AbCdEfGhIjKlMnOpQrStUvWx on tokens per min (TPM): Limit 30000, Requested 45000. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.', type: 'tokens', code: 'rate_limit_exceeded' } },
  });
  gw = await servedGateway({
    models: [
      { name: 'long', engine: 'openai-compatible', baseURL: longWaitUp.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'limited', engine: 'openai-compatible', baseURL: downUp.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming'], limits: { rpm: 1 } },
      { name: 'proj', engine: 'openai-compatible', baseURL: projUp.baseURL, model: 'gpt-5', apiKey: 'k', capabilities: ['chat', 'streaming'] },
      { name: 'big', engine: 'openai-compatible', baseURL: tooLargeUp.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming'] },
    ],
    routing: { retries: { max: 1 } },
    upstreams: [longWaitUp, downUp, projUp, tooLargeUp],
  });
});
afterAll(() => gw?.close());

async function failure(model: string): Promise<APIError> {
  const e = await gw
    .openai()
    .withOptions({ maxRetries: 0 })
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] })
    .then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(APIError);
  return e as APIError;
}

describe('rate-limit rewording: edges', () => {
  it("a wait parsed from the provider's message is held to MAX_RETRY_AFTER_MS (a day), as a retry-after header is", async () => {
    const e = await failure('long');
    expect(e.status).toBe(429);
    const header = Number(e.headers?.get('retry-after'));
    expect(header).toBeGreaterThan(0);
    // Not retry-after 172800 ("try again in 48h"): no provider wait longer than a day is passed on.
    expect(header).toBeLessThanOrEqual(MAX_RETRY_AFTER_S);
  });

  it("the gateway's own deployment limit (no request sent) is not called the upstream provider's rate limit", async () => {
    const e = await failure('limited');
    expect(e.status).toBe(429);
    // The provider was not asked (its limit was not hit): the gateway's own words, 'Deployment "limited" is saturated'.
    expect(e.message).not.toContain('upstream provider');
    expect(e.message).toContain('saturated');
  });

  it("a shared deployment's non-rate-limit upstream error does not show the gateway's provider project id", async () => {
    const e = await failure('proj');
    // The account id is redacted in every upstream message, not only in rate limits.
    expect(e.message).not.toContain(PROJ);
  });

  it("OpenAI's 429 'Request too large' still tells the client its request exceeds the limit (no wait cures it)", async () => {
    const e = await failure('big');
    expect(e.status).toBe(429);
    // The client is told its request (45000) is over the limit and must be reduced, and not to retry it.
    expect(e.message).toMatch(/too large|reduce|requested|exceeds/i);
    expect(e.message).toContain('requested 45000');
    expect(e.headers?.get('x-should-retry')).toBe('false');
    expect(e.headers?.get('retry-after')).toBeNull();
  });
});
