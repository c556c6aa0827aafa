import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { createGeminiEngine } from './create-gemini-engine.js';
import { geminiRefusesModelTurn } from './gemini-model-turn-prefill.js';
import { GEMINI_TEST_KEY, useGeminiWireServer } from './gemini-wire.test-helpers.js';

// Gemini 3.6 Flash and 3.5 Flash-Lite (and, Google says, every later release) answer a request whose `contents` end
// with a `model` turn with 400 "Requests ending with a model turn are not supported." (LibreChat-AI/agents#323 tried
// the same request: gemini-3.6-flash and gemini-3.5-flash-lite 400, gemini-3.5-flash and gemini-2.5-flash 200). The
// server here refuses as they do. The engine knows those models: it refuses such a request before the call
// (`unsupported` naming the message, nothing sent), so that a router hands it to a deployment that takes it.

const REFUSING = ['gemini-3.6-flash', 'gemini-3.5-flash-lite'];
// Ids the table does not know, whose upstream refuses too (Google's moving alias pointing at such a model, a tuned one).
const UNKNOWN_REFUSING = ['gemini-flash-latest', 'my-tune'];
const wire = useGeminiWireServer({ modelTurnRefused: (id) => REFUSING.includes(id) || UNKNOWN_REFUSING.includes(id) });
const PREFILL: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: '{"capital": "' },
  ],
  continueFinalMessage: true,
};

describe('gemini: the models that refuse a trailing model turn', () => {
  it('are refused before the call: unsupported naming the message, nothing sent (generate and stream)', async () => {
    for (const model of REFUSING) {
      const before = wire.server.requests.length;
      const engine = wire.engine({ model });
      const e = await rejection(engine.generate(PREFILL));
      const last = (await collect(engine.stream(PREFILL))).at(-1) as { type: string; error: LLMError };
      for (const err of [e, last.error]) {
        expect(LLMError.isInstance(err) && { code: err.code, param: err.param, status: err.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
        expect(err.message).toContain(model);
      }
      expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
      expect(wire.server.requests.length).toBe(before);
    }
  });

  it('a request ending with a user message (or an empty assistant one) is sent as usual; a system message after the assistant\'s does not hide it: refused', async () => {
    const engine = wire.engine({ model: 'gemini-3.6-flash' });
    wire.server.enqueue({ parts: 'Paris' });
    expect((await engine.generate({ messages: [{ role: 'user', content: 'Hi' }] })).text).toBe('Paris');
    const system: GenerateRequest = { messages: [...PREFILL.messages, { role: 'system', content: 'Be brief.' }] };
    expect(engine.refusal(system)).toMatchObject({ param: 'messages.1' });
    const empty: GenerateRequest = { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '' }] };
    expect(engine.refusal(empty)).toBeUndefined();
  });

  it('older models take it (continued as a prefill); options.prefill overrides the table either way', async () => {
    wire.server.enqueue({ parts: 'Paris"}' });
    expect((await wire.engine({ model: 'gemini-2.5-flash' }).generate(PREFILL)).text).toBe('Paris"}');
    expect((wire.lastBody().contents as Array<{ role: string }>).at(-1)).toMatchObject({ role: 'model' });
    expect(wire.engine({ model: 'gemini-3.5-flash' }).refusal(PREFILL)).toBeUndefined();
    expect(wire.engine({ model: 'gemini-flash-latest', options: { prefill: false } }).refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
    // Told it takes one, the engine sends it: the refusing server's 400 then reaches the caller as `unsupported` naming
    // the message (a router tries the next deployment), and the next such request is sent again (options.prefill holds).
    const told = wire.engine({ model: 'gemini-3.6-flash', options: { prefill: true } });
    const before = wire.server.requests.length;
    for (let i = 0; i < 2; i++) {
      const e = await rejection(told.generate(PREFILL));
      expect({ code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
      expect(e.message).toContain('model turn');
    }
    expect(wire.server.requests.length).toBe(before + 2);
    expect(told.refusal(PREFILL)).toBeUndefined();
  });

  it('an alias or unknown id whose upstream answers the model-turn 400: unsupported naming the message, then refused before the call', async () => {
    for (const model of ['gemini-flash-latest', 'tunedModels/my-tune']) {
      const engine = wire.engine({ model });
      expect(engine.refusal(PREFILL)).toBeUndefined();
      const before = wire.server.requests.length;
      const e = await rejection(engine.generate(PREFILL));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode, upstream: e.upstreamStatus }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400, upstream: 400 });
      expect(e.message).toContain('Requests ending with a model turn are not supported');
      expect(wire.server.requests.length).toBe(before + 1);
      // Latched (this engine, one model id): asked again, it refuses before the call, generate and stream alike.
      expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
      const last = (await collect(engine.stream(PREFILL))).at(-1) as { type: string; error: LLMError };
      expect({ code: last.error.code, param: last.error.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
      expect(wire.server.requests.length).toBe(before + 1);
      // A request ending with a user message still goes.
      wire.server.enqueue({ parts: 'Paris' });
      expect((await engine.generate({ messages: [{ role: 'user', content: 'Hi' }] })).text).toBe('Paris');
    }
  });

  it("the 400 as a proxy speaking Gemini's wire format words it (LiteLLM's prefix, Google's body inside): unsupported naming the message, latched", async () => {
    // LiteLLM's shape (BerriAI/litellm#9733): `litellm.BadRequestError: VertexAIException BadRequestError - b'{ "error": {...} }'`.
    const inner = JSON.stringify({ error: { code: 400, message: 'Requests ending with a model turn are not supported.', status: 'INVALID_ARGUMENT' } }, null, 2);
    const engine = wire.engine({ model: 'gemini-3.5-flash' });
    wire.server.enqueue({ error: { status: 400, rpcStatus: 'INVALID_ARGUMENT', message: `litellm.BadRequestError: VertexAIException BadRequestError - b'${inner}'` } });
    const e = await rejection(engine.generate(PREFILL));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param, upstream: e.upstreamStatus }).toEqual({ code: 'unsupported', param: 'messages.1', upstream: 400 });
    expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
  });

  it("the sentence quoted inside a 400 about something else (the caller's own words) is not the refusal: not unsupported, not latched", async () => {
    const engine = wire.engine({ model: 'gemini-2.5-flash' });
    const quoted = `Invalid value at 'tools[0].function_declarations[0].name' (TYPE_STRING), "Requests ending with a model turn are not supported."`;
    for (const message of [quoted, `litellm.BadRequestError: VertexAIException BadRequestError - b'${JSON.stringify({ error: { code: 400, message: quoted, status: 'INVALID_ARGUMENT' } })}'`]) {
      wire.server.enqueue({ error: { status: 400, rpcStatus: 'INVALID_ARGUMENT', message } });
      const e = await rejection(engine.generate(PREFILL));
      expect(LLMError.isInstance(e) && e.code).toBe('invalid_request');
      expect(engine.refusal(PREFILL)).toBeUndefined();
    }
  });

  it('the same 400 streamed (an alias): the error part is unsupported naming the message', async () => {
    const engine = wire.engine({ model: 'gemini-flash-latest' });
    const last = (await collect(engine.stream(PREFILL))).at(-1) as { type: string; error: LLMError };
    expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param: 'messages.1' });
    expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
  });

  it('the table: 3.5 Flash-Lite and every release from 3.6 on; not 3.5 Flash, 3.1 Pro, 2.5, aliases or Gemma', () => {
    for (const id of ['gemini-3.6-flash', 'models/gemini-3.5-flash-lite', 'gemini-3.5-flash-lite-preview-06-2026', 'gemini-3.8-flash', 'gemini-3.7-flash', 'Gemini-4-pro']) {
      expect(geminiRefusesModelTurn(id), id).toBe(true);
    }
    for (const id of ['gemini-3.5-flash', 'gemini-3.1-pro-preview', 'gemini-3-flash-preview', 'gemini-2.5-flash', 'gemini-flash-latest', 'gemma-4-31b-it']) {
      expect(geminiRefusesModelTurn(id), id).toBe(false);
    }
  });
});

describe('router: a Gemini model that refuses a trailing model turn', () => {
  function router(models: Array<Partial<ModelConfigInput> & { name: string }>, fallbacks: Record<string, string[]> = {}): LLMRouter {
    return new LLMRouter(
      {
        models: models.map((m, i) => ({ engine: 'gemini', baseURL: wire.server.url, apiKey: GEMINI_TEST_KEY, priority: i + 1, ...m })),
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, fallbacks },
      },
      { engineFactories: { gemini: createGeminiEngine }, env: {}, sleep: async () => {} },
    );
  }

  it('goes to the next deployment, which continues it; the refusing model gets nothing (generate and stream)', async () => {
    const r = router([{ name: 'new', model: 'gemini-3.6-flash' }, { name: 'old', model: 'gemini-2.5-flash' }], { new: ['old'] });
    const before = wire.server.requests.filter((q) => q.model === 'models/gemini-3.6-flash').length;
    wire.server.enqueue({ parts: 'Paris"}' }, { parts: 'Paris"}' });
    const answer = await r.generate(PREFILL, { model: 'new' });
    expect({ text: answer.text, deployment: answer.deployment }).toEqual({ text: 'Paris"}', deployment: 'old' });
    expect((await collect(r.stream(PREFILL, { model: 'new' }))).at(-1)).toMatchObject({ type: 'finish' });
    expect(wire.server.requests.filter((q) => q.model === 'models/gemini-3.6-flash').length).toBe(before);
    await r.close();
  });

  it('an alias whose upstream refuses: falls back (no strike), and is left out of later plans, explained', async () => {
    const r = router([{ name: 'alias', model: 'gemini-flash-latest' }, { name: 'old', model: 'gemini-2.5-flash' }], { alias: ['old'] });
    wire.server.enqueue({ parts: 'Paris"}' }, { parts: 'Paris"}' });
    const answer = await r.generate(PREFILL, { model: 'alias' });
    expect({ text: answer.text, deployment: answer.deployment }).toEqual({ text: 'Paris"}', deployment: 'old' });
    expect(answer.attempts.map((a) => ({ deployment: a.deployment, errorCode: a.errorCode, strike: a.strike }))).toEqual([
      { deployment: 'alias', errorCode: 'unsupported', strike: undefined },
      { deployment: 'old', errorCode: undefined, strike: undefined },
    ]);
    const before = wire.server.requests.length;
    const decision = await r.route(PREFILL, { model: 'alias', explain: true });
    expect({ selected: decision.selected, excluded: decision.excluded }).toEqual({
      selected: 'old',
      excluded: [{ name: 'alias', kind: 'unfit', code: 'unsupported', param: 'messages.1', reason: expect.stringContaining('gemini-flash-latest') }],
    });
    expect((await r.generate(PREFILL, { model: 'alias' })).deployment).toBe('old');
    expect(wire.server.requests.slice(before).map((q) => q.model)).toEqual(['models/gemini-2.5-flash']);
    await r.close();
  });

  it('with no deployment left: unsupported naming the message, not the server 400', async () => {
    const r = router([{ name: 'new', model: 'gemini-3.5-flash-lite' }]);
    const e = await rejection(r.generate(PREFILL, { model: 'new' }));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    await r.close();
  });
});
