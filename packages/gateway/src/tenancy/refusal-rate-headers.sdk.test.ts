/**
 * A request refused after it took its place under the limits (a 402 budget refusal, a 404 for a model that does not
 * exist) gives that place back: its concurrency slot is freed and its tokens-per-minute charge refunded. Its
 * `x-ratelimit-*` headers say what is left after it (the request itself stays counted), as the limiter then does, so
 * a client pacing itself by them (they are exposed for that, CORS included) does not back off for nothing.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const LIMITS = { maxConcurrency: 1, tpm: 100_000, rpm: 1_000 };
let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('mock')] });
  // A budget no call can fit (a call of the priced mock reserves about $0.008): every call is a 402.
  await gw.harness.stores!.tenants.updateTenant('acme', { limits: LIMITS, budget: { amountUsd: 0.000001, period: 'total' } });
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

async function refusal(model: string, extra: Record<string, unknown> = {}): Promise<InstanceType<typeof OpenAI.APIError>> {
  const e = await gw
    .openai()
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  expect(e).toBeInstanceOf(OpenAI.APIError);
  return e as InstanceType<typeof OpenAI.APIError>;
}

async function current(): Promise<{ remainingConcurrency?: number; remainingTokens?: number; remainingRequests?: number }> {
  return gw.harness.stores!.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]);
}

function shown(e: InstanceType<typeof OpenAI.APIError>): Record<string, string | null> {
  return {
    concurrency: e.headers!.get('x-ratelimit-remaining-concurrency'),
    tokens: e.headers!.get('x-ratelimit-remaining-tokens'),
    resetTokens: e.headers!.get('x-ratelimit-reset-tokens'),
    requests: e.headers!.get('x-ratelimit-remaining-requests'),
  };
}

/** The refused request stays counted (rpm): fewer left than the limit, no more than the limiter says later (it refills with time). */
function countsTheRequest(e: InstanceType<typeof OpenAI.APIError>, later: { remainingRequests?: number }): void {
  const requests = Number(e.headers!.get('x-ratelimit-remaining-requests'));
  expect(requests).toBeLessThan(LIMITS.rpm);
  expect(requests).toBeLessThanOrEqual(later.remainingRequests!);
}

describe('the rate-limit headers of a refusal that gave its place back', () => {
  it('a 402 budget refusal of a call that may be served from the caches (a miss): nothing is held after it, and its headers say so', async () => {
    const e = await refusal('mock');
    expect(e.status).toBe(402);
    // The limiter: the slot is free and the token charge refunded.
    const now = await current();
    expect(now).toMatchObject({ remainingConcurrency: 1, remainingTokens: 100_000 });
    expect(shown(e)).toEqual({ concurrency: '1', tokens: '100000', resetTokens: '0s', requests: expect.any(String) });
    countsTheRequest(e, now);
  });

  it('a 402 budget refusal of a call that reads no cache (given back at once): the same', async () => {
    const e = await refusal('mock', { llmrr: { cache: false } });
    expect(e.status).toBe(402);
    const now = await current();
    expect(now).toMatchObject({ remainingConcurrency: 1, remainingTokens: 100_000 });
    expect(shown(e)).toEqual({ concurrency: '1', tokens: '100000', resetTokens: '0s', requests: expect.any(String) });
    countsTheRequest(e, now);
  });

  it('a 404 for a model that does not exist: its slot was given back, its headers do not count it', async () => {
    const e = await refusal('no-such-model');
    expect(e.status).toBe(404);
    expect((await current()).remainingConcurrency).toBe(1);
    expect(e.headers!.get('x-ratelimit-remaining-concurrency')).toBe('1');
  });
});
