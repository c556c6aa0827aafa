import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';

function value(text: string, line: RegExp): number {
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').at(-1)) : NaN;
}

describe('/metrics', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      models: [mockModel('mock'), mockModel('flaky', { failures: [{ code: 'provider_unavailable', times: 1 }] }, { priority: 1 }), mockModel('backup', {}, { priority: 2 })],
      routing: { fallbacks: ['backup'] },
      cache: { exact: { enabled: true } },
    });
  });
  afterEach(() => h.close());

  it('counts requests, durations, ttft, tokens, cost, cache hits and fallbacks in Prometheus format', async () => {
    const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }], temperature: 0 };
    await (await post(h.gateway, '/v1/chat/completions', chat)).text();
    await (await post(h.gateway, '/v1/chat/completions', chat)).text(); // exact cache hit
    await (await post(h.gateway, '/v1/chat/completions', { ...chat, stream: true, messages: [{ role: 'user', content: 'stream me' }] })).text();
    await (await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'nope' })).text();
    await (await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'flaky' })).text(); // fails over to backup

    const res = await get(h.gateway, '/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(value(text, /^llm_requests_total\{model="mock",status="success",tenant="anonymous"\}/)).toBe(3);
    expect(value(text, /^llm_requests_total\{model="unknown",status="model_not_found",tenant="anonymous"\}/)).toBe(1);
    expect(value(text, /^llm_requests_total\{model="backup",status="success"/)).toBe(1);
    expect(value(text, /^llm_request_duration_seconds_count\{model="mock",status="success"\}/)).toBe(3);
    expect(value(text, /^llm_time_to_first_token_seconds_count\{model="mock"\}/)).toBe(1);
    expect(value(text, /^llm_tokens_total\{type="output",model="mock"\}/)).toBe(5 + 5 + 5);
    expect(value(text, /^llm_cache_hits_total\{kind="exact",model="mock"\}/)).toBe(1);
    expect(value(text, /^llm_cost_usd_total\{model="mock",tenant="anonymous"\}/)).toBeGreaterThan(0);
    expect(value(text, /^llm_fallbacks_total\{from="flaky",to="backup"\}/)).toBe(1);
    expect(value(text, /^llm_requests_in_flight /)).toBe(0);
    // The mock reports no prompt-cache use: no series for it (not zeros).
    expect(text).not.toMatch(/^llm_tokens_total\{type="(cached_input|cache_write)"/m);
  });

  it('/health and /ready', async () => {
    expect(await (await get(h.gateway, '/health')).json()).toEqual({ status: 'ok' });
    expect((await get(h.gateway, '/ready')).status).toBe(200);
    const notReady = await createHarness({ gateway: { ready: () => false } });
    try {
      expect((await get(notReady.gateway, '/ready')).status).toBe(503);
    } finally {
      await notReady.close();
    }
  });
});
