import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/messages.js';
import { collect } from '../../test/async.test-helpers.js';
import { topKProblem } from '../../test/anthropic-wire-server.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// topK -> top_k. Anthropic refuses top_k with extended thinking (the wire server answers that 400 as the API does):
// like a temperature or top_p, the caller's top_k wins and thinking is dropped, with a `reasoning` warning.
// verbosity and logprobs have no Anthropic field: not sent, and said so.

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const hi: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const reasoningWarning = { code: 'setting_not_sent', field: 'reasoning', message: expect.stringContaining('top_k') };

describe('anthropic topK', () => {
  it('is sent as top_k in the messages body, generate and stream, with no warning; not in the count_tokens body', async () => {
    const request: GenerateRequest = { messages: hi, topK: 7 };
    const r = await engine().generate(request);
    expect(lastBody().top_k).toBe(7);
    expect(r.warnings).toBeUndefined();
    const parts = await collect(engine().stream(request));
    expect(lastBody().top_k).toBe(7);
    expect(parts.map((p) => p.type)).not.toContain('warnings');
    await engine({ options: { exactTokenCount: true } }).countTokens!(request);
    expect(wire.server.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
    expect(lastBody()).not.toHaveProperty('top_k');
  });

  it('the wire server refuses top_k with thinking enabled or adaptive, as the API does', () => {
    for (const type of ['enabled', 'adaptive']) expect(topKProblem({ top_k: 5, thinking: { type } })).toMatch(/^`top_k` must be unset when thinking is enabled/);
    expect(topKProblem({ top_k: 5, thinking: { type: 'disabled' } })).toBeUndefined();
    expect(topKProblem({ top_k: 5 })).toBeUndefined();
    expect(topKProblem({ thinking: { type: 'enabled' } })).toBeUndefined();
  });

  for (const model of ['claude-sonnet-4-5', 'claude-opus-4-7']) {
    it(`with thinking asked (${model}): top_k sent, thinking dropped and warned (as for a temperature), and the call succeeds`, async () => {
      const request: GenerateRequest = { messages: hi, topK: 7, reasoning: { effort: 'medium' } };
      const r = await engine({ model }).generate(request);
      const body = lastBody();
      expect(body.top_k).toBe(7);
      expect(body).not.toHaveProperty('thinking');
      expect(body).not.toHaveProperty('output_config');
      expect(r.warnings).toEqual([reasoningWarning]);
      const parts = await collect(engine({ model }).stream(request));
      expect(parts[0]).toEqual({ type: 'warnings', warnings: [reasoningWarning] });
      expect(parts.at(-1)).toMatchObject({ type: 'finish' });
      // The same warning a temperature gives.
      const hot = await engine({ model }).generate({ messages: hi, temperature: 0.2, reasoning: { effort: 'medium' } });
      expect(lastBody()).not.toHaveProperty('thinking');
      expect(hot.warnings).toEqual(r.warnings);
    });
  }

  it('with thinking off (effort none) or dropped for temperature: sent', async () => {
    const off = await engine({ model: 'claude-sonnet-4-5' }).generate({ messages: hi, topK: 3, reasoning: { effort: 'none' } });
    expect(lastBody()).toMatchObject({ thinking: { type: 'disabled' }, top_k: 3 });
    expect(off.warnings).toBeUndefined();
    const hot = await engine({ model: 'claude-sonnet-4-5' }).generate({ messages: hi, topK: 3, temperature: 0.2, reasoning: { effort: 'high' } });
    expect(lastBody()).toMatchObject({ top_k: 3, temperature: 0.2 });
    expect(lastBody()).not.toHaveProperty('thinking');
    expect(hot.warnings?.map((w) => w.field)).toEqual(['reasoning']);
  });

  it('with a verbatim providerOptions.anthropic.thinking: top_k sent, that thinking dropped and warned by its own name', async () => {
    const r = await engine({ model: 'claude-sonnet-4-5' }).generate({ messages: hi, topK: 5, providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 2048 } } } });
    expect(lastBody().top_k).toBe(5);
    expect(lastBody()).not.toHaveProperty('thinking');
    expect(r.warnings?.map((w) => [w.code, w.field])).toEqual([['setting_not_sent', 'providerOptions.anthropic.thinking']]);
  });

  it('providerOptions.anthropic.top_k is sent as given, in the place of request.topK (thinking then drops, as for topK)', async () => {
    const r = await engine({ model: 'claude-sonnet-4-5' }).generate({ messages: hi, topK: 3, reasoning: { effort: 'high' }, providerOptions: { anthropic: { top_k: 9 } } });
    expect(lastBody().top_k).toBe(9);
    expect(lastBody()).not.toHaveProperty('thinking');
    expect(r.warnings?.map((w) => w.field)).toEqual(['reasoning']);
  });

  it('a top_k the body sends with thinking is what the wire server refuses (the check is live)', async () => {
    const e = engine({ model: 'claude-sonnet-4-5' });
    const error = await e
      .generate({ messages: hi, providerOptions: { anthropic: { top_k: 4, thinking: { type: 'enabled', budget_tokens: 2048 } } } })
      .then(() => undefined, (err: unknown) => err);
    // applyThinking drops the verbatim thinking for the given top_k, so the API takes this body...
    expect(error).toBeUndefined();
    expect(lastBody()).toMatchObject({ top_k: 4 });
    // ...and a raw body with both is refused with the API's message.
    const res = await fetch(`${wire.server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 4096, messages: hi, top_k: 4, thinking: { type: 'enabled', budget_tokens: 2048 } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^`top_k` must be unset when thinking is enabled/);
  });
});

describe('anthropic verbosity and logprobs', () => {
  it('are not sent and are warned, in generate and stream; no logprobs come back', async () => {
    const request: GenerateRequest = { messages: hi, verbosity: 'low', logprobs: { topLogprobs: 3 } };
    const r = await engine().generate(request);
    expect(r.warnings?.map((w) => [w.code, w.field])).toEqual([
      ['setting_not_sent', 'verbosity'],
      ['setting_not_sent', 'logprobs'],
    ]);
    expect(r.logprobs).toBeUndefined();
    const body = lastBody();
    for (const key of ['verbosity', 'logprobs', 'top_logprobs', 'output_config']) expect(body).not.toHaveProperty(key);
    const parts = await collect(engine().stream(request));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: r.warnings });
    expect(parts.map((p) => p.type)).not.toContain('logprobs');
  });
});
