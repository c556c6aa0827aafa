/**
 * What a client is told when the upstream rate-limits: a 429 whose Retry-After is whole seconds or absent, whatever
 * the upstream sent (odd Retry-After values, OpenAI's retry-after-ms alone, Gemini's RetryInfo `retryDelay`,
 * Anthropic's 429 `retry-after`), on the OpenAI and Anthropic routes, streamed or not. Local wire upstreams. (An
 * overloaded Anthropic upstream: anthropic/overloaded-status.sdk.test.ts.)
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';

let up: WireUpstreams;
let gw: SdkGateway;
beforeAll(async () => {
  const served = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'gem'), wireDeployment(u, 'claude')], {
    routing: { strategy: 'priority', retries: { max: 0 } },
  });
  up = served.upstreams;
  gw = served.gw;
});
afterAll(async () => gw?.close());

async function call(path: string, body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.secret}`, 'x-api-key': gw.secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), retryAfterMs: res.headers.get('retry-after-ms'), body: await res.text() };
}
const chat = (model: string, stream = false) => call('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] });
const messages = (model: string, stream = false) => call('/v1/messages', { model, stream, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });

const RATE = { status: 429, type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests' };

describe('Retry-After values from an OpenAI-wire upstream', () => {
  for (const [value, check] of [
    // Not a wait: no Retry-After (the gateway invents none).
    ['soon', (v: string | null) => expect(v, 'not a number nor a date: absent').toBeNull()],
    ['-5', (v: string | null) => expect(v, 'a negative wait: absent').toBeNull()],
    // Not delay-seconds (digits) either, though JavaScript reads them as numbers.
    ['0x10', (v: string | null) => expect(v, 'hexadecimal: absent').toBeNull()],
    ['1e3', (v: string | null) => expect(v, 'exponent notation: absent').toBeNull()],
    ['1.5', (v: string | null) => expect(v, 'a fractional value rounds up to whole seconds').toBe('2')],
    // Never 0: a client told so would retry at once, into the same limit.
    ['0', (v: string | null) => expect(v, 'at least a second').toBe('1')],
    // Passed on as the upstream said it, whole seconds (not in exponent notation), up to a day (MAX_RETRY_AFTER_MS):
    // 3 000 years would have a client that honours it wait for ever.
    ['86400', (v: string | null) => expect(v, 'the same seconds').toBe('86400')],
    ['99999999999', (v: string | null) => expect(v, 'a day at most').toBe('86400')],
    ['Fri, 31 Dec 9999 23:59:59 GMT', (v: string | null) => expect(v, 'a date far ahead: a day at most').toBe('86400')],
    ['Thu, 01 Jan 1970 00:00:00 GMT', (v: string | null) => expect(v, 'a date past: at least a second').toBe('1')],
    ['Thursday 2030', (v: string | null) => expect(v, 'not an HTTP-date: absent').toBeNull()],
  ] as const) {
    it(`Retry-After: ${value} -> a 429 whose Retry-After is absent or whole seconds`, async () => {
      up.openai.setScript({ error: { ...RATE, headers: { 'retry-after': value } } });
      for (const r of [await chat('gpt'), await chat('gpt', true), await messages('gpt'), await messages('gpt', true)]) {
        expect(r.status, r.body).toBe(429);
        check(r.retryAfter);
      }
      up.openai.setScript({});
    });
  }

  it('an HTTP-date Retry-After (~30 s ahead) -> a 429 whose Retry-After is those seconds, streamed or not', async () => {
    up.openai.setScript({ error: { ...RATE, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } } });
    for (const r of [await chat('gpt'), await chat('gpt', true)]) {
      expect(r.status, r.body).toBe(429);
      // Whole seconds to that date: HTTP-dates have one-second resolution, and a loaded machine takes its time.
      expect(r.retryAfter).toMatch(/^\d+$/);
      expect(Number(r.retryAfter)).toBeGreaterThan(5);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(31);
    }
    up.openai.setScript({});
  });

  it("OpenAI's retry-after-ms alone (no Retry-After) is passed on as a Retry-After", async () => {
    up.openai.setScript({ error: { ...RATE, headers: { 'retry-after-ms': '7000' } } });
    const r = await chat('gpt');
    expect(r.status).toBe(429);
    expect(r.retryAfter).toBe('7');
    up.openai.setScript({ error: { ...RATE, headers: { 'retry-after-ms': '99999999999999' } } });
    expect((await chat('gpt')).retryAfter).toBe('86400');
    up.openai.setScript({});
  });
});

describe('Gemini RetryInfo', () => {
  it("a 429 RESOURCE_EXHAUSTED with RetryInfo retryDelay '31s' -> 429 with Retry-After 31 (chat and messages, streamed or not)", async () => {
    for (const run of [() => chat('gem'), () => chat('gem', true), () => messages('gem'), () => messages('gem', true)]) {
      up.gemini.enqueue({ error: { status: 429, rpcStatus: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).', retryDelay: '31s' } });
      const r = await run();
      expect(r.status, r.body).toBe(429);
      expect(r.retryAfter).toBe('31');
    }
  });

  it("a retryDelay of '99999999999s' -> Retry-After a day at most", async () => {
    up.gemini.enqueue({ error: { status: 429, rpcStatus: 'RESOURCE_EXHAUSTED', message: 'Resource has been exhausted (e.g. check quota).', retryDelay: '99999999999s' } });
    const r = await chat('gem');
    expect(r.status, r.body).toBe(429);
    expect(r.retryAfter).toBe('86400');
  });
});

describe('Anthropic upstream 429', () => {
  it('429 rate_limit_error with retry-after 13 -> 429 rate_limit_error with Retry-After 13, streamed too', async () => {
    for (const stream of [false, true]) {
      up.anthropic.enqueue({ error: { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', headers: { 'retry-after': '13' } } });
      const m = await messages('claude', stream);
      expect(m.status, m.body).toBe(429);
      expect(m.retryAfter).toBe('13');
      expect(JSON.parse(m.body).error.type).toBe('rate_limit_error');
    }
  });
});

describe("the router's own retry after a huge Retry-After, through the official openai client", () => {
  let patient: { upstreams: WireUpstreams; gw: SdkGateway };
  beforeAll(async () => {
    // Retries allowed, and any Retry-After a timer can wait (2^31 - 1 ms, about 24.8 days).
    patient = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt')], { routing: { strategy: 'priority', retries: { max: 2, maxRetryAfterMs: 2 ** 31 - 1 } } });
  });
  afterAll(async () => patient?.gw.close());

  for (const [status, value] of [
    [429, '99999999999'],
    // 23 days: within what a timer takes, so waited before it was read as a day at most.
    [429, '2000000'],
    [503, 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ] as const) {
    it(`${status} with Retry-After ${value}: not waited (one upstream request), the client told a day at most`, async () => {
      const { upstreams, gw } = patient;
      upstreams.openai.setScript({ error: { status, code: status === 429 ? 'rate_limit_exceeded' : 'server_error', message: 'not now', headers: { 'retry-after': value } } });
      upstreams.openai.requests.length = 0;
      const call = gw
        .openai()
        .chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // A hang guard far above a request's time, far below any wait the Retry-After asks.
      const outcome = await Promise.race([call, new Promise((r) => setTimeout(() => r('hang'), 10_000).unref())]);
      expect(outcome).toBeInstanceOf(OpenAI.APIError);
      const error = outcome as InstanceType<typeof OpenAI.APIError>;
      expect(error.status).toBe(status);
      expect(error.headers?.get('retry-after')).toBe('86400');
      expect(upstreams.openai.requests).toHaveLength(1);
      upstreams.openai.setScript({});
    });
  }
});
