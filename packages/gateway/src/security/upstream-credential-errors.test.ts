import { afterEach, describe, expect, it } from 'vitest';
import { redactUpstreamMessage, sharedRateLimitMessage, upstreamWaitMs } from '../http/redact-upstream.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

/** What `errorFromResponse` makes of OpenAI's 401 for a wrong server-side key (provider set, message from upstream). */
const UPSTREAM_401 = 'openai responded 401: Incorrect API key provided: sk-proj-****************************************Zx9Q. You can find your API key at https://platform.openai.com/account/api-keys.';

describe("the upstream provider's credential errors", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  // An upstream `authentication` / `permission_denied` is the provider refusing the gateway's own key:
  // a 502 `provider_error` with a generic message (the original, which quotes part of that key, is logged).
  it('are a 502 that neither blames the client key nor quotes the upstream message', async () => {
    const logged: unknown[] = [];
    h = await createHarness({
      models: [mockModel('mock', { failures: [{ code: 'authentication', message: UPSTREAM_401, times: 10 }] })],
      gateway: { log: (entry) => logged.push(entry.error) },
    });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    const text = await res.text();
    expect(text).not.toContain('Zx9Q');
    expect(text).not.toContain('sk-proj');
    expect(res.status).toBe(502);
    expect(JSON.parse(text).error).toMatchObject({ code: 'provider_error', message: expect.stringContaining("rejected the gateway's credentials") });
    expect(logged.map((e) => String((e as Error | undefined)?.message)).join('\n')).toContain('Zx9Q');

    const streamed = await post(h.gateway, '/v1/chat/completions', { model: 'mock', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(streamed.status).toBe(502);
    expect(await streamed.text()).not.toContain('Zx9Q');
  });

  it('a permission_denied from upstream is a 502 too; the gateway\'s own auth failures stay 401', async () => {
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'permission_denied', message: 'Project proj_abc does not have access to model', times: 10 }] })] });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    expect(await res.text()).not.toContain('proj_abc');
    await h.close();
    h = await createHarness({ stores: 'memory' });
    const refused = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer wrong-key' });
    expect(refused.status).toBe(401);
  });

  it("an upstream budget_exceeded (the gateway's provider account is out of credit) is a 502, not the client's 402", async () => {
    const logged: unknown[] = [];
    const message = 'anthropic responded 400: invalid_request_error: Your credit balance is too low to access the Anthropic API.';
    h = await createHarness({
      models: [mockModel('mock', { failures: [{ code: 'budget_exceeded', message, times: 10 }] })],
      gateway: { log: (entry) => logged.push(entry.error) },
    });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    const text = await res.text();
    expect(res.status).toBe(502);
    expect(JSON.parse(text).error).toMatchObject({ type: 'api_error', code: 'provider_error', message: expect.stringContaining('billing') });
    expect(text).not.toContain('credit balance');
    // The operator sees the provider's own words.
    expect(logged.map((e) => String((e as Error | undefined)?.message)).join('\n')).toContain('credit balance is too low');
  });

  it('other upstream errors keep their status but have credential-like text redacted', async () => {
    // (A rate limit is reworded whole on a shared deployment: `upstream-rate-limit-account.sdk.test.ts`.)
    const message = 'upstream 503: capacity for organization org-1 exhausted on API key sk-live-abcdef0123456789abcdef (key ...9abc)';
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'provider_unavailable', message, times: 10 }] })] });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(503);
    const body = JSON.parse(await res.text()) as { error: { message: string } };
    expect(body.error.message).toContain('capacity for organization org-1 exhausted');
    expect(body.error.message).not.toContain('sk-live');
    expect(body.error.message).not.toContain('9abc');
  });
});

describe('redactUpstreamMessage', () => {
  it('removes key-like tokens and whatever follows "API key" / "Authorization" / "Bearer"', () => {
    expect(redactUpstreamMessage(UPSTREAM_401)).not.toMatch(/sk-proj|Zx9Q/);
    expect(redactUpstreamMessage('invalid x-goog-api-key AIzaSyD0123456789abcdefghij')).toBe('invalid x-goog-api-key [redacted]');
    // A Google key holds `-` and `_` (AIza + 35 of [A-Za-z0-9_-]), which cut it into pieces no long-token rule sees.
    expect(redactUpstreamMessage('models/x is not found (AIzaSyB-secret_gemini-0123456789abcdefX).')).toBe('models/x is not found ([redacted]).');
    expect(redactUpstreamMessage('Authorization: Bearer abc.def')).toBe('Authorization [redacted]');
    expect(redactUpstreamMessage('bad token gsk_0123456789abcdef here')).toBe('bad token [redacted] here');
    expect(redactUpstreamMessage('opaque 0123456789abcdef0123456789abcdef0123 value')).toBe('opaque [redacted] value');
    expect(redactUpstreamMessage("This model's maximum context length is 8192 tokens")).toBe("This model's maximum context length is 8192 tokens");
    expect(redactUpstreamMessage('The model `gpt-4o-mini` does not exist')).toBe('The model `gpt-4o-mini` does not exist');
  });

  it("leaves ids that are not credentials alone: an operator's model name, a UUID the client itself sent", () => {
    expect(redactUpstreamMessage('The model `acme-org-Llama3Instruct` does not exist')).toBe('The model `acme-org-Llama3Instruct` does not exist');
    const id = '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
    expect(redactUpstreamMessage(`Invalid parameter: no tool message answers tool_call_id ${id}`)).toBe(`Invalid parameter: no tool message answers tool_call_id ${id}`);
  });
});

describe("sharedRateLimitMessage (a provider's rate limit on a shared deployment, in the gateway's words)", () => {
  it('says the kind and figure of the limit and the wait rounded up to whole seconds, nothing of the account', () => {
    expect(sharedRateLimitMessage('Rate limit exceeded for tokens per min: limit 30000, used: 29937, requested 385.', 644)).toBe(
      "The upstream provider's rate limit for this model was reached (tokens per minute, limit 30000); try again in 1s.",
    );
    expect(sharedRateLimitMessage('Rate limit reached for images per minute: Limit: 5, Used: 5.', undefined)).toBe(
      "The upstream provider's rate limit for this model was reached (limit 5).",
    );
    expect(sharedRateLimitMessage('Rate limit reached on requests per day (RPD): Limit 10000, Used 10000, Requested 1.', 2_000)).toBe(
      "The upstream provider's rate limit for this model was reached (requests per day, limit 10000); try again in 2s.",
    );
    expect(sharedRateLimitMessage('Too many requests in org_01kes94v04f9ramd2n1vj4gjnc', 0)).toBe("The upstream provider's rate limit for this model was reached; try again in 1s.");
  });

  it("reads the provider's 'try again in' wait (ms, s, minutes and seconds)", () => {
    expect(upstreamWaitMs('Please try again in 644ms. Visit')).toBe(644);
    expect(upstreamWaitMs('Please try again in 11.455s. Need more')).toBeCloseTo(11_455);
    expect(upstreamWaitMs('Please try again in 1m30s.')).toBe(90_000);
    expect(upstreamWaitMs('Slow down')).toBeUndefined();
  });
});
