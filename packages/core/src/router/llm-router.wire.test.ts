/**
 * The router over real HTTP: the openai-compatible engine against local servers speaking the OpenAI
 * wire format (status codes, Retry-After, SSE, cut connections).
 */
import { describe, expect, it } from 'vitest';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from './llm-router.js';
import type { RouterStreamPart } from './types.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { openAIWireRouter, usePrimaryAndBackup } from '../test/wire-router.test-helpers.js';

const wire = usePrimaryAndBackup();

describe('LLMRouter over the OpenAI wire format', () => {
  it('a server answering 503 twice makes the router fall back; its circuit opens, half-opens later and closes on success', async () => {
    let t = 5_000_000;
    wire.primary.setScript([{ error: { status: 503, message: 'overloaded' } }, { error: { status: 503, message: 'overloaded' } }, { text: 'primary is back' }]);
    const { router: r, sleeps } = wire.router({ circuitBreaker: { failureThreshold: 2, cooldownMs: 30_000 } }, { now: () => t });
    const circuit: string[] = [];
    r.on('circuit', (e) => circuit.push(`${e.deployment}:${e.from}->${e.to}`));

    const first = await r.generate('hello');
    expect(first.text).toBe('from backup');
    expect(first.deployment).toBe('backup');
    expect(first.attempts.map((a) => a.errorCode ?? 'ok')).toEqual(['provider_unavailable', 'provider_unavailable', 'ok']);
    expect(wire.primary.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
    expect(circuit).toEqual(['primary:closed->open']);

    // open: the primary gets no traffic
    expect((await r.generate('again')).deployment).toBe('backup');
    expect(wire.primary.requests).toHaveLength(2);

    t += 30_000;
    const probe = await r.generate('probe');
    expect(probe.deployment).toBe('primary');
    expect(probe.text).toBe('primary is back');
    expect(circuit).toEqual(['primary:closed->open', 'primary:open->half-open', 'primary:half-open->closed']);
    expect(probe.usage.inputTokens).toBeGreaterThan(0);
  });

  it('Retry-After from a 429 is honoured (the injected sleep records it)', async () => {
    wire.primary.setScript([{ error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '2' } } }, { text: 'after the wait' }]);
    const { router: r, sleeps } = wire.router();
    const result = await r.generate('x');
    expect(result.text).toBe('after the wait');
    expect(result.deployment).toBe('primary');
    expect(sleeps).toEqual([2_000]);
  });

  it('a Retry-After longer than maxRetryAfterMs moves on to the next deployment', async () => {
    wire.primary.setScript({ error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '600' } } });
    const { router: r, sleeps } = wire.router({ retries: { max: 3, maxRetryAfterMs: 60_000 } });
    const result = await r.generate('x');
    expect(result.deployment).toBe('backup');
    expect(wire.primary.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('a non-retryable 400 returns the error without fallback', async () => {
    wire.primary.setScript({ error: { status: 400, message: "Invalid 'messages'", param: 'messages' } });
    const { router: r } = wire.router();
    const err = await rejection(r.generate('x'));
    expect(err.code).toBe('invalid_request');
    expect(err.upstreamStatus).toBe(400);
    expect(wire.primary.requests).toHaveLength(1);
    expect(wire.backup.requests).toHaveLength(0);
  });

  it('a 401 falls over to the next deployment without retrying', async () => {
    wire.primary.setScript({ error: { status: 401, message: 'bad key' } });
    const { router: r } = wire.router();
    expect((await r.generate('x')).deployment).toBe('backup');
    expect(wire.primary.requests).toHaveLength(1);
  });

  it('aborting a call closes the upstream connection (the server sees the socket close)', async () => {
    wire.primary.setScript({ hang: true });
    const { router: r } = wire.router();
    const controller = new AbortController();
    const p = r.generate('x', { signal: controller.signal });
    for (let i = 0; i < 200 && wire.primary.requests.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    expect(wire.primary.requests).toHaveLength(1);
    const closed = wire.primary.waitForSocketClose(1, 5_000);
    controller.abort();
    const err = await rejection(p);
    expect(err.code).toBe('aborted');
    await closed;
    expect(wire.primary.socketsClosed).toBeGreaterThanOrEqual(1);
    expect(wire.backup.requests).toHaveLength(0);
  });

  it('aborting a stream closes the upstream connection', async () => {
    wire.primary.setScript({ text: 'a b c d e f g h i j', chunkDelayMs: 50 });
    const { router: r } = wire.router();
    const controller = new AbortController();
    const s = r.stream('x', { signal: controller.signal });
    const closed = wire.primary.waitForSocketClose(1, 5_000);
    const parts: RouterStreamPart[] = [];
    for await (const p of s) {
      parts.push(p);
      if (p.type === 'text-delta') controller.abort();
    }
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    await closed;
    expect((await rejection(s.result)).code).toBe('aborted');
  });

  it('a stream cut after its first chunk ends with an error part: no failover after the first byte', async () => {
    wire.primary.setScript({ text: 'one two three four', cutAfterChunks: 2 });
    const { router: r } = wire.router();
    const s = r.stream('x');
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'primary' });
    const text = parts.filter((p) => p.type === 'text-delta').map((p) => (p as { delta: string }).delta).join('');
    expect(text.length).toBeGreaterThan(0);
    const last = parts.at(-1)!;
    expect(last.type).toBe('error');
    expect(['stream_interrupted', 'network_error']).toContain((last as { error: LLMError }).error.code);
    expect(wire.backup.requests).toHaveLength(0);
    await rejection(s.result);
  });

  it('a stream failing before its first byte fails over', async () => {
    wire.primary.setScript({ text: 'never sent', cutAfterChunks: 0 });
    const { router: r } = wire.router({ retries: { max: 0 } });
    const s = r.stream('x');
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'backup' });
    expect(parts.some((p) => p.type === 'error')).toBe(false);
    const result = await s.result;
    expect(result.text).toBe('from backup');
    expect(result.attempts[0]).toMatchObject({ deployment: 'primary', ok: false });
  });

  it('a streamed 503 fails over before any content', async () => {
    wire.primary.setScript({ error: { status: 503 } });
    const { router: r } = wire.router({ retries: { max: 0 } });
    const s = r.stream('x');
    await collect(s);
    expect((await s.result).deployment).toBe('backup');
  });

  it('a firstToken timeout fails over and closes the slow connection', async () => {
    wire.primary.setScript({ delayMs: 10_000 });
    // Only the primary times out after 100 ms (its own deployment timeout); the backup keeps the default, so a
    // loaded machine cannot time out its answer too.
    const { router: r } = wire.router({ retries: { max: 0 } }, {}, { timeouts: { firstTokenMs: 100 } });
    const closed = wire.primary.waitForSocketClose(1, 5_000);
    const result = await r.generate('x');
    expect(result.deployment).toBe('backup');
    expect(result.attempts[0]).toMatchObject({ deployment: 'primary', errorCode: 'timeout' });
    await closed;
  });

  it("a preset deployment's provider is its preset on the timeout of its first call too, before its engine exists", async () => {
    wire.primary.setScript({ delayMs: 10_000 });
    const { router: r } = openAIWireRouter(
      [{ name: 'g', engine: 'openai-compatible', preset: 'groq', baseURL: wire.primary.baseURL, model: 'llama', apiKey: 'k', timeouts: { totalMs: 100 } }],
      { retries: { max: 0 } },
    );
    try {
      // The attempt's timeout is the router's own error, named with the deployment's provider: the engine is created
      // only by the first call, which used to say `openai-compatible` and the next ones `groq`.
      const first = await rejection(r.generate('x'));
      const second = await rejection(r.generate('x'));
      expect([first.code, first.provider, second.code, second.provider]).toEqual(['timeout', 'groq', 'timeout', 'groq']);
    } finally {
      await r.close();
    }
  });

  it('a firstToken timeout on a stream fails over', async () => {
    wire.primary.setScript({ text: 'slow', delayMs: 10_000 });
    // As above: the short timeout is the primary's own, the backup's stream keeps the default.
    const { router: r } = wire.router({ retries: { max: 0 } }, {}, { timeouts: { firstTokenMs: 100 } });
    const s = r.stream('x');
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'backup' });
  });

  it('hedging: the faster server wins and the slower connection is closed', async () => {
    wire.primary.setScript({ text: 'slow answer', delayMs: 5_000 });
    const { router: r } = wire.router({ hedging: { enabled: true, delayMs: 50 } }, { sleep: (ms, signal) => new Promise((res, rej) => {
      const timer = setTimeout(res, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        rej(signal.reason);
      });
    }) });
    const hedges: string[] = [];
    r.on('hedge', (e) => hedges.push(e.deployment));
    const closed = wire.primary.waitForSocketClose(1, 5_000);
    const result = await r.generate('x');
    expect(result.text).toBe('from backup');
    expect(hedges).toEqual(['backup']);
    await closed;
  });

  it('streamed and non-streamed calls of the same answer cost the same', async () => {
    wire.primary.setScript({ text: 'a fixed answer of some words', usage: { prompt_tokens: 12, completion_tokens: 7 }, streamUsage: 'always' });
    const r = new LLMRouter(
      { models: [{ name: 'p', engine: 'openai-compatible', baseURL: wire.primary.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 2.5, output: 10 } }] },
      { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
    );
    const g = await r.generate('q');
    const s = r.stream('q');
    await collect(s);
    const sr = await s.result;
    expect(sr.text).toBe(g.text);
    expect(sr.usage).toMatchObject({ inputTokens: 12, outputTokens: 7 });
    expect(sr.cost).toEqual(g.cost);
    expect(g.cost).toEqual({ inputUsd: 0.00003, outputUsd: 0.00007, totalUsd: 0.0001, estimated: false });
  });
});
