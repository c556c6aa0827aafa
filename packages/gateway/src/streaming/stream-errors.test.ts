import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIWireServer } from '@llmrr/core/test';
import { createHarness, mockModel, parseSse, post, sseJson, type Harness } from '../test-support/harness.js';

const chat = { model: 'mock', messages: [{ role: 'user', content: 'tell me a long story please' }], stream: true };

describe('streams that break', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('OpenAI: a failure after the first byte ends with a data: {"error"} frame, not [DONE], and is in the ledger', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock', { failures: [{ code: 'provider_error', message: 'upstream fell over', afterChunks: 2 }] })], gateway: { auth: { demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    const res = await post(h.gateway, '/v1/chat/completions', chat);
    expect(res.status).toBe(200);
    const text = await res.text();
    const frames = parseSse(text);
    expect(frames.some((f) => f.data === '[DONE]')).toBe(false);
    const payloads = sseJson(text);
    const content = payloads.flatMap((p) => ((p.choices as Array<{ delta: { content?: string } }> | undefined) ?? []).map((c) => c.delta.content ?? '')).join('');
    expect(content).toBe('Mock answer ');
    const last = payloads.at(-1) as { error: { type: string; code: string; message: string; request_id: string } };
    expect(last.error).toMatchObject({ type: 'api_error', code: 'provider_error', request_id: res.headers.get('x-request-id') });
    expect(last.error.message).toContain('upstream fell over');
    const entry = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(entry).toMatchObject({ status: 'error', errorCode: 'provider_error', stream: true, deployment: 'mock' });
  });

  it('Anthropic: a failure after the first byte ends with event: error', async () => {
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'overloaded', afterChunks: 1 }] })] });
    const res = await post(h.gateway, '/v1/messages', { model: 'mock', max_tokens: 50, messages: chat.messages, stream: true });
    const frames = parseSse(await res.text());
    const last = frames.at(-1)!;
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data)).toMatchObject({ type: 'error', error: { type: 'overloaded_error', code: 'overloaded' } });
    expect(frames.map((f) => f.event)).not.toContain('message_stop');
  });

  it('a failure before the first byte is a proper HTTP error (status and Retry-After)', async () => {
    h = await createHarness({ models: [mockModel('mock', { failures: [{ code: 'rate_limited', retryAfterMs: 3000, afterChunks: 0 }] })] });
    const res = await post(h.gateway, '/v1/chat/completions', chat);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
  });

  it('before the first byte the router fails over to the next deployment', async () => {
    h = await createHarness({
      models: [mockModel('first', { failures: [{ code: 'provider_unavailable', afterChunks: 0 }] }, { priority: 1 }), mockModel('second', {}, { priority: 2 })],
    });
    const res = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'auto' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-model')).toBe('second');
    expect(parseSse(await res.text()).at(-1)!.data).toBe('[DONE]');
  });

  it('an upstream OpenAI server that cuts the connection after the first chunk gives an error frame', async () => {
    const upstream = await startOpenAIWireServer({ script: { text: 'one two three four five six', cutAfterChunks: 2 } });
    try {
      h = await createHarness({
        models: [{ name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'sk-test', model: 'gpt-test', price: { input: 1, output: 2 } }],
      });
      const res = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'remote' });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(parseSse(text).some((f) => f.data === '[DONE]')).toBe(false);
      const last = sseJson(text).at(-1) as { error?: { code: string } };
      expect(last.error?.code).toMatch(/stream_interrupted|network_error|provider_error/);
      const content = sseJson(text).flatMap((p) => ((p.choices as Array<{ delta: { content?: string } }> | undefined) ?? []).map((c) => c.delta.content ?? '')).join('');
      expect(content.length).toBeGreaterThan(0);
    } finally {
      await upstream.close();
    }
  });

  /** A memory-stores harness whose one deployment `remote` is the wire server at `baseURL` (demo tenant). */
  async function remoteHarness(baseURL: string): Promise<Harness> {
    const harness = await createHarness({
      stores: 'memory',
      models: [{ name: 'remote', engine: 'openai-compatible', baseURL, apiKey: 'sk-test', model: 'gpt-test', price: { input: 1, output: 2 } }],
      gateway: { auth: { demoTenantId: 'demo' } },
    });
    await harness.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    return harness;
  }

  /** The ledger record of `id`, polled for up to 2 s (a stream's settlement follows the client's leaving). */
  async function ledgerEntry(harness: Harness, id: string) {
    let entry;
    for (let i = 0; i < 100 && !entry; i++) {
      entry = await harness.stores!.ledger.get(id);
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    return entry;
  }

  it('a client that goes away mid-stream cancels the upstream call and is recorded as aborted', async () => {
    const upstream = await startOpenAIWireServer({ script: { text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 30 } });
    try {
      h = await remoteHarness(upstream.baseURL);
      const res = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'remote' });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.read();
      await reader.cancel();
      await upstream.waitForSocketClose(1, 10_000);
      expect(upstream.responsesAborted).toBe(1);
      const id = res.headers.get('x-request-id')!;
      const entry = await ledgerEntry(h, id);
      expect(entry).toMatchObject({ status: 'aborted', stream: true });
    } finally {
      await upstream.close();
    }
  });

  it('a client that goes away while the upstream stalls (a pull waiting on it) stops it at once, billed as aborted with the partial usage', async () => {
    // No request signal fires here (the web body is cancelled): only the router stream's cancel() reaches the upstream.
    const upstream = await startOpenAIWireServer({ script: { text: 'a b c d e f g h i j k l m n o p', hangAfterChunks: 4 } });
    try {
      h = await remoteHarness(upstream.baseURL);
      const res = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'remote' });
      const reader = res.body!.getReader();
      let text = '';
      const decoder = new TextDecoder();
      // Read what the upstream sent before it stalled (the route, role and three words), then leave.
      while (!text.includes('"c "')) text += decoder.decode((await reader.read()).value);
      await reader.cancel();
      await upstream.waitForSocketClose(1, 10_000);
      expect(upstream.responsesAborted).toBe(1);
      const id = res.headers.get('x-request-id')!;
      const entry = await ledgerEntry(h, id);
      expect(entry).toMatchObject({ status: 'aborted', stream: true, deployment: 'remote' });
      // The words streamed before the stall are billed (estimated: the upstream never reported usage).
      expect(entry!.outputTokens).toBeGreaterThan(0);
      expect(entry!.costUsd).toBeGreaterThan(0);
    } finally {
      await upstream.close();
    }
  });
});
