import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { overWireUpstreams } from '../test-support/served-over-wire-upstreams.js';

// Reasoning effort from the gateway's three request formats (chat `reasoning_effort`, responses
// `reasoning.effort`, messages `thinking`), sent by the official `openai` and `@anthropic-ai/sdk` clients to
// a gateway over node:http, routed to local upstreams speaking the OpenAI, Anthropic and Gemini wire
// formats: each test asserts what reached the upstream.

const wire = overWireUpstreams(
  (u) => {
    const capabilities: ModelInput['capabilities'] = ['chat', 'streaming', 'tools', 'json', 'reasoning'];
    return [
      // An id outside the OpenAI family table (openai-reasoning-models.ts), declared able to reason: every effort
      // goes as asked (a known family, such as gpt-5 before 5.1, gets the nearest effort it takes).
      { name: 'gpt', engine: 'openai-compatible', baseURL: u.openai.baseURL, model: 'reasoner-test', apiKey: 'k', capabilities },
      { name: 'claude', engine: 'anthropic', baseURL: u.anthropic.url, model: 'claude-test', apiKey: 'ak', capabilities },
      { name: 'gem25', engine: 'gemini', baseURL: u.gemini.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities },
      { name: 'gem3', engine: 'gemini', baseURL: u.gemini.url, model: 'gemini-3-pro-preview', apiKey: 'gk', capabilities },
    ];
  },
  { cache: { exact: { enabled: true } } },
);

const openai = () => wire.gw.openai();
const anthropic = () => wire.gw.anthropic();

/** A new question each call: the exact cache is on, and these tests are about what reaches the upstream. */
let n = 0;
const q = () => `Question ${++n}?`;

const openaiBody = (i = 0) => wire.upstreams.openai.requests[i]!.body as Record<string, unknown>;
const anthropicBody = (i = 0) => wire.upstreams.anthropic.requests[i]!.body!;
const geminiConfig = (i = 0) => wire.upstreams.gemini.requests[i]!.body!.generationConfig;

describe('chat completions: reasoning_effort', () => {
  it.each(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const)('%s reaches an OpenAI upstream as reasoning_effort', async (effort) => {
    await openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }], reasoning_effort: effort });
    expect(openaiBody().reasoning_effort).toBe(effort);
  });

  it('streamed too; null or absent: no reasoning_effort', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }], reasoning_effort: 'low', stream: true });
    for await (const _ of stream) void _;
    await openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }], reasoning_effort: null });
    await openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }] });
    expect(wire.upstreams.openai.requests.map((r) => (r.body as Record<string, unknown>).reasoning_effort)).toEqual(['low', undefined, undefined]);
  });

  it('reaches an Anthropic upstream as thinking with the effort budget (max_tokens raised when the client set none)', async () => {
    await openai().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: q() }], reasoning_effort: 'medium' });
    await openai().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: q() }], reasoning_effort: 'high', max_completion_tokens: 6000 });
    await openai().chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: q() }], reasoning_effort: 'none' });
    expect(wire.upstreams.anthropic.requests.map((r) => [r.body!.thinking, r.body!.max_tokens])).toEqual([
      [{ type: 'enabled', budget_tokens: 2048 }, 2048 + 4096],
      [{ type: 'enabled', budget_tokens: 4096 }, 6000],
      [{ type: 'disabled' }, 4096],
    ]);
  });

  it('reaches Gemini as thinkingBudget (2.5) or thinkingLevel (3)', async () => {
    await openai().chat.completions.create({ model: 'gem25', messages: [{ role: 'user', content: q() }], reasoning_effort: 'low' });
    await openai().chat.completions.create({ model: 'gem3', messages: [{ role: 'user', content: q() }], reasoning_effort: 'low' });
    expect(geminiConfig(0)).toEqual({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    expect(geminiConfig(1)).toEqual({ thinkingConfig: { thinkingLevel: 'low', includeThoughts: true } });
  });

  it('the upstream reasoning comes back as reasoning_content', async () => {
    wire.upstreams.openai.setScript({ text: '42', reasoning: 'Six times seven.' });
    const res = await openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }], reasoning_effort: 'high' });
    expect(res.choices[0]!.message).toMatchObject({ content: '42', reasoning_content: 'Six times seven.' });
  });

  it('the exact cache keeps efforts apart', async () => {
    const content = q();
    const ask = (reasoning_effort: 'low' | 'high') => openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content }], reasoning_effort });
    await ask('low');
    await ask('low');
    await ask('high');
    expect(wire.upstreams.openai.requests.map((r) => (r.body as Record<string, unknown>).reasoning_effort)).toEqual(['low', 'high']);
  });
});

describe('responses: reasoning.effort', () => {
  it('reaches OpenAI as reasoning_effort and Anthropic as thinking, and is echoed', async () => {
    const res = await openai().responses.create({ model: 'gpt', input: q(), reasoning: { effort: 'xhigh' } });
    expect(res.reasoning).toEqual({ effort: 'xhigh', summary: null });
    await openai().responses.create({ model: 'claude', input: q(), reasoning: { effort: 'low' }, max_output_tokens: 3000 });
    expect(openaiBody().reasoning_effort).toBe('xhigh');
    expect(anthropicBody()).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 3000 });
  });
});

describe('messages: thinking', () => {
  const ask = (model: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming>) =>
    anthropic().messages.create({ model, max_tokens: 5000, messages: [{ role: 'user', content: q() }], ...extra });

  it('enabled / disabled reach an Anthropic upstream as they are; adaptive passes verbatim', async () => {
    await ask('claude', { thinking: { type: 'enabled', budget_tokens: 2000 } });
    await ask('claude', { thinking: { type: 'disabled' } });
    await ask('claude', { thinking: { type: 'adaptive', display: 'omitted' } });
    expect(wire.upstreams.anthropic.requests.map((r) => [r.body!.thinking, r.body!.max_tokens])).toEqual([
      [{ type: 'enabled', budget_tokens: 2000 }, 5000],
      [{ type: 'disabled' }, 5000],
      [{ type: 'adaptive', display: 'omitted' }, 5000],
    ]);
  });

  it('a budget reaches OpenAI as the effort of its budget, Gemini 2.5 as thinkingBudget; adaptive sends nothing there', async () => {
    await ask('gpt', { thinking: { type: 'enabled', budget_tokens: 2000 } });
    await ask('gpt', { thinking: { type: 'enabled', budget_tokens: 4000 } });
    await ask('gpt', { thinking: { type: 'disabled' } });
    await ask('gpt', { thinking: { type: 'adaptive' } });
    // disabled is a budget of 0: to a model outside the family table nothing (many such servers refuse "none"; a
    // known family gets its lowest effort: reasoning-mixed-deployments' gpt-5 test); adaptive without an effort asks
    // for nothing.
    expect(wire.upstreams.openai.requests.map((r) => (r.body as Record<string, unknown>).reasoning_effort)).toEqual(['medium', 'high', undefined, undefined]);
    await ask('gem25', { thinking: { type: 'enabled', budget_tokens: 2000 } });
    expect(geminiConfig()).toEqual({ maxOutputTokens: 5000, thinkingConfig: { thinkingBudget: 2000, includeThoughts: true } });
  });
});

describe('messages/count_tokens: thinking', () => {
  it('is accepted (its body has no max_tokens to hold the budget against)', async () => {
    const count = await anthropic().messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: q() }], thinking: { type: 'enabled', budget_tokens: 2000 } });
    expect(count.input_tokens).toBeGreaterThan(0);
    const bad = await anthropic()
      .messages.countTokens({ model: 'claude', messages: [{ role: 'user', content: q() }], thinking: { type: 'enabled', budget_tokens: 10 } })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe('bad values: a 400 naming the wire field, before admission (no upstream call, no ledger row)', () => {
  async function refused<E extends { status?: number; headers?: Headers | Record<string, string> }>(call: Promise<unknown>, kind: new (...a: never[]) => E): Promise<E> {
    const e = await call.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(kind);
    expect((e as E).status).toBe(400);
    return e as E;
  }
  const requestId = (e: { headers?: Headers | Record<string, string> }) => (e.headers instanceof Headers ? e.headers.get('x-request-id') : e.headers?.['x-request-id'])!;

  it('reasoning_effort, reasoning.effort, thinking.budget_tokens', async () => {
    const chat = await refused(
      openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }], reasoning_effort: 'turbo' as 'high' }),
      OpenAI.BadRequestError,
    );
    expect(chat.param).toBe('reasoning_effort');
    const responses = await refused(openai().responses.create({ model: 'gpt', input: q(), reasoning: { effort: 'turbo' as 'high' } }), OpenAI.BadRequestError);
    expect(responses.param).toBe('reasoning.effort');
    const small = await refused(
      anthropic().messages.create({ model: 'claude', max_tokens: 5000, messages: [{ role: 'user', content: q() }], thinking: { type: 'enabled', budget_tokens: 500 } }),
      Anthropic.BadRequestError,
    );
    expect(small.message).toContain('thinking.budget_tokens');
    const over = await refused(
      anthropic().messages.create({ model: 'claude', max_tokens: 1500, messages: [{ role: 'user', content: q() }], thinking: { type: 'enabled', budget_tokens: 2000 } }),
      Anthropic.BadRequestError,
    );
    expect(over.message).toContain('thinking.budget_tokens: must be less than max_tokens');
    expect(wire.upstreams.openai.requests.length + wire.upstreams.anthropic.requests.length).toBe(0);

    // A good call after them: once its ledger row is there, the refused calls' rows would be too.
    const ok = await openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: q() }] }).withResponse();
    const okId = ok.response.headers.get('x-request-id')!;
    for (let i = 0; i < 200 && !(await wire.gw.ledger.get(okId)); i++) await new Promise((r) => setTimeout(r, 10));
    expect(await wire.gw.ledger.get(okId)).toBeDefined();
    for (const e of [chat, responses, small, over]) {
      const id = requestId(e);
      expect(id).toMatch(/^req_/);
      expect(await wire.gw.ledger.get(id)).toBeUndefined();
    }
  });
});
