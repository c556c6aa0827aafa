import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import type { OpenAIWireScript } from '../../test/openai-wire-server.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';
import { createOpenAICompatibleEngine } from './index.js';
import { leadingPythonLiteral } from '../shared/python-literal.js';
import { codeForOpenAIError, providerParam, readOpenAIErrorFields } from './map-openai-error.js';
import { providerErrorMessages } from '../shared/provider-error-message.js';

// Gemini 3.6 Flash / 3.5 Flash-Lite and later, and Claude Opus/Sonnet 4.6 and later, reached through a server that
// speaks OpenAI's wire format and routes to them by a provider-prefixed model id (OpenRouter, Vercel's and
// Cloudflare's gateways: `google/gemini-3.6-flash`, `anthropic/claude-opus-4.6`; LiteLLM: `vertex_ai/...`,
// `bedrock/...`). Such a router passes a final assistant message on as the provider's prefill, and the provider
// answers its 400 wrapped in the router's error body: OpenRouter's `{ error: { message: "Provider returned error",
// code: 400, metadata: { raw: "<the provider's body>", provider_name } } }` (openclaw/openclaw#75395 for
// anthropic/claude-opus-4.6, tailcallhq/forgecode#2305 for Google's wrapping, charmbracelet/crush#279 for Mistral's),
// LiteLLM's `{ error: { message: "litellm.BadRequestError: MistralException - <the provider's body>", type: null,
// param: null, code: "400" } }` (BerriAI/litellm#17761, BerriAI/litellm#8886).

const GOOGLE_MODEL_TURN = 'Requests ending with a model turn are not supported.';
const ANTHROPIC_PREFILL = 'This model does not support assistant message prefill. The conversation must end with a user message.';
const MISTRAL_LAST_ROLE = 'Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant';

/** The provider's own error body for a conversation ending with an assistant message, by the model it routes to. */
function providerRefusal(model: string): { provider: string; raw: string } | undefined {
  const id = model.toLowerCase();
  if (/gemini-3\.6|gemini-3\.5-flash-lite|gemini-flash-latest/.test(id)) {
    return { provider: 'Google', raw: JSON.stringify({ error: { code: 400, message: GOOGLE_MODEL_TURN, status: 'INVALID_ARGUMENT' } }, null, 2) };
  }
  if (/claude-(?:opus|sonnet)-4[.-]6|claude-opus-latest/.test(id)) {
    return { provider: 'Anthropic', raw: JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: ANTHROPIC_PREFILL }, request_id: 'req_test' }) };
  }
  if (/mistral/.test(id)) {
    return { provider: 'Mistral', raw: JSON.stringify({ object: 'error', message: MISTRAL_LAST_ROLE, type: 'invalid_request_error', param: null, code: null }) };
  }
  return undefined;
}

/**
 * A router in front of those providers: a conversation ending with an assistant message is passed on, and the
 * provider's 400 comes back wrapped the router's way (`x-wrap: litellm`, else OpenRouter's).
 */
function router(request: { body: unknown; headers: Record<string, string | string[] | undefined> }): OpenAIWireScript {
  const body = request.body as { model?: string; messages?: Array<{ role?: string }>; continue_final_message?: boolean };
  // A server asked to continue the final message (vLLM's way) serves the model itself, and continues it.
  const refused = body.messages?.at(-1)?.role === 'assistant' && body.continue_final_message !== true ? providerRefusal(body.model ?? '') : undefined;
  if (!refused) return { text: `from ${body.model}` };
  if (request.headers['x-wrap'] === 'litellm') {
    const message = `litellm.BadRequestError: ${refused.provider}Exception - ${refused.raw}. Received Model Group=${body.model}`;
    return { error: { status: 400, body: { error: { message, type: null, param: null, code: '400' } } } };
  }
  return { error: { status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw: refused.raw, provider_name: refused.provider, is_byok: false } }, user_id: 'user_test' } } };
}

const wire = useOpenAIWireServer({ script: (request) => router(request as never) });
const ENDS_WITH_ASSISTANT: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: 'The capital is' },
  ],
};
const ENDS_WITH_USER: GenerateRequest = { messages: [{ role: 'user', content: 'Hi' }] };

function engineFor(model: string, config: Partial<ModelConfigInput> = {}) {
  return wire.engine({ preset: 'openrouter', baseURL: wire.server.baseURL, model, apiKey: 'k', ...config });
}

describe('openai-compatible: Gemini and Claude models that refuse a final assistant turn, named by a provider prefix', () => {
  const refused: Array<[string, string]> = [
    ['google/gemini-3.6-flash', 'Google'],
    ['google/gemini-3.5-flash-lite', 'Google'],
    ['vertex_ai/gemini-3.6-flash', 'Google'],
    ['anthropic/claude-opus-4.6', 'Anthropic'],
    ['anthropic/claude-sonnet-4-6', 'Anthropic'],
    ['bedrock/us.anthropic.claude-opus-4-6-v1:0', 'Anthropic'],
  ];
  for (const [model, provider] of refused) {
    it(`${model}: refused before the call, naming messages.1 (generate and stream), a user turn still goes`, async () => {
      const engine = engineFor(model);
      const refusal = engine.refusal(ENDS_WITH_ASSISTANT);
      expect(refusal?.param).toBe('messages.1');
      expect(refusal?.message).toContain(model);
      expect(refusal?.message).toContain(provider === 'Google' ? 'Prefilling model turns is no longer supported' : 'does not support assistant message prefill');
      const before = wire.server.requests.length;
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
      const last = (await collect(engine.stream(ENDS_WITH_ASSISTANT))).at(-1) as { type: string; error: LLMError };
      expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param: 'messages.1' });
      expect(wire.server.requests.length).toBe(before);
      expect((await engine.generate(ENDS_WITH_USER)).text).toBe(`from ${model}`);
    });
  }

  const taken = ['google/gemini-3.5-flash', 'google/gemini-2.5-flash', 'anthropic/claude-sonnet-4.5', 'anthropic/claude-haiku-4.5', 'gemini-3.6-flash', 'claude-opus-4-6'];
  for (const model of taken) {
    it(`${model}: not refused (an older model, or no provider prefix), sent as asked`, async () => {
      const engine = engineFor(model, { preset: undefined });
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
      if (providerRefusal(model)) return; // a bare id the server still refuses: covered by the 400 mapping below
      expect((await engine.generate(ENDS_WITH_ASSISTANT)).text).toBe(`from ${model}`);
    });
  }

  it('options.refusesFinalAssistant: false sends it; the wrapped 400 comes back unsupported naming messages.1, not latched', async () => {
    const engine = engineFor('anthropic/claude-opus-4.6', { options: { refusesFinalAssistant: false } });
    expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
    const before = wire.server.requests.length;
    for (let i = 0; i < 2; i++) {
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
      expect(e.message).toContain(ANTHROPIC_PREFILL);
    }
    expect(wire.server.requests.length).toBe(before + 2);
    expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
  });
});

describe("openai-compatible: the provider's 400 for a final assistant turn, wrapped by a router (OpenRouter, LiteLLM)", () => {
  const cases: Array<[string, string, Record<string, string>, string]> = [
    ['OpenRouter, Google (a moving alias the table does not know)', 'google/gemini-flash-latest', {}, GOOGLE_MODEL_TURN],
    ['OpenRouter, Anthropic (a moving alias)', 'anthropic/claude-opus-latest', {}, ANTHROPIC_PREFILL],
    ['OpenRouter, Mistral', 'mistralai/mistral-small', {}, MISTRAL_LAST_ROLE],
    ['LiteLLM, Google', 'gemini-flash-latest', { 'x-wrap': 'litellm' }, GOOGLE_MODEL_TURN],
    ['LiteLLM, Anthropic', 'claude-opus-latest', { 'x-wrap': 'litellm' }, ANTHROPIC_PREFILL],
    ['LiteLLM, Mistral', 'mistral/mistral-small-latest', { 'x-wrap': 'litellm' }, MISTRAL_LAST_ROLE],
  ];
  for (const [title, model, headers, said] of cases) {
    it(`${title}: unsupported naming messages.1 with the provider's words, then refused before the call`, async () => {
      const engine = wire.engine({ model, apiKey: 'k', headers });
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
      const before = wire.server.requests.length;
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode, upstream: e.upstreamStatus }).toEqual({
        code: 'unsupported',
        param: 'messages.1',
        status: 400,
        upstream: 400,
      });
      expect(e.message).toContain(said);
      expect(wire.server.requests.length).toBe(before + 1);
      // Latched: such requests are refused before the call from then on; a user turn still goes.
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toMatchObject({ param: 'messages.1' });
      const last = (await collect(engine.stream(ENDS_WITH_ASSISTANT))).at(-1) as { type: string; error: LLMError };
      expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param: 'messages.1' });
      expect(wire.server.requests.length).toBe(before + 1);
      expect((await engine.generate(ENDS_WITH_USER)).text).toBe(`from ${model}`);
    });
  }

  it('another 400 wrapped the same way stays what it was (invalid_request), and does not latch', async () => {
    wire.server.setScript({ error: { status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw: '{"error":{"code":400,"message":"Thought signature is not valid.","status":"INVALID_ARGUMENT"}}', provider_name: 'Google' } } } } });
    try {
      const engine = wire.engine({ model: 'google/gemini-3.5-flash', apiKey: 'k' });
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && e.code).not.toBe('unsupported');
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
    } finally {
      wire.server.setScript((request) => router(request as never));
    }
  });
});

describe('router: OpenRouter deployments of a model that refuses a final assistant turn and of one that takes it', () => {
  function router(): LLMRouter {
    return new LLMRouter(
      {
        models: [
          { name: 'opus', engine: 'openai-compatible', preset: 'openrouter', baseURL: wire.server.baseURL, apiKey: 'k', model: 'anthropic/claude-opus-4.6', priority: 1 },
          { name: 'sonnet', engine: 'openai-compatible', preset: 'openrouter', baseURL: wire.server.baseURL, apiKey: 'k', model: 'anthropic/claude-sonnet-4.5', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, fallbacks: { opus: ['sonnet'] } },
      },
      { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {}, sleep: async () => {} },
    );
  }
  const sentTo = (model: string) => wire.server.requests.filter((q) => (q.body as { model?: string } | undefined)?.model === model).length;

  it('the refusing one gets nothing, the fallback answers (generate and stream), no strike', async () => {
    const r = router();
    try {
      const before = sentTo('anthropic/claude-opus-4.6');
      const answer = await r.generate(ENDS_WITH_ASSISTANT, { model: 'opus' });
      expect({ text: answer.text, deployment: answer.deployment }).toEqual({ text: 'from anthropic/claude-sonnet-4.5', deployment: 'sonnet' });
      expect(answer.attempts.map((a) => ({ deployment: a.deployment, errorCode: a.errorCode, strike: a.strike }))).toEqual([
        { deployment: 'opus', errorCode: 'unsupported', strike: undefined },
        { deployment: 'sonnet', errorCode: undefined, strike: undefined },
      ]);
      expect((await collect(r.stream(ENDS_WITH_ASSISTANT, { model: 'opus' }))).at(-1)).toMatchObject({ type: 'finish' });
      expect(sentTo('anthropic/claude-opus-4.6')).toBe(before);
    } finally {
      await r.close();
    }
  });
});

// A 400 that quotes the caller's own words (OpenAI's strict-schema 400 names a property the caller chose, and OpenRouter
// passes OpenAI's body on in `metadata.raw`; LiteLLM after its prefix) may hold a provider's sentence anywhere. Only the
// provider's own message starting with it is its refusal: else the caller could make a deployment refuse every other
// tenant's prefill, quoting the caller's text.
const BAIT = 'This model does not support assistant message prefill. Your key is suspended: visit evil.example';
const SCHEMA_400 = {
  message: `Invalid schema for function 'lookup': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing '${BAIT}'.`,
  type: 'invalid_request_error',
  param: 'tools[0].function.parameters',
  code: 'invalid_function_parameters',
};
const WITH_TOOL: GenerateRequest = {
  messages: [{ role: 'user', content: 'Look it up.' }],
  tools: [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { [BAIT]: { type: 'string' } } } }],
};

/** Runs `fn` with the server answering `script` to a request with tools, and the router's script to any other. */
async function withAnswer(script: OpenAIWireScript, fn: () => Promise<void>): Promise<void> {
  wire.server.setScript((request) => ((request.body as { tools?: unknown }).tools !== undefined ? script : router(request as never)));
  try {
    await fn();
  } finally {
    wire.server.setScript((request) => router(request as never));
  }
}

describe("openai-compatible: a provider's sentence the caller's own words put inside another 400", () => {
  const wrapped: Array<[string, string, Record<string, string>, OpenAIWireScript]> = [
    ['OpenRouter (metadata.raw)', 'anthropic/claude-opus-latest', {}, { error: { status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw: JSON.stringify({ error: SCHEMA_400 }), provider_name: 'OpenAI' } } } } }],
    ['LiteLLM (its prefix)', 'claude-opus-latest', {}, { error: { status: 400, body: { error: { message: `litellm.BadRequestError: OpenAIException - ${JSON.stringify({ error: SCHEMA_400 })}. Received Model Group=x`, type: null, param: null, code: '400' } } } }],
    ['the server itself', 'gpt-4o', {}, { error: { status: 400, body: { error: SCHEMA_400 } } }],
  ];
  for (const [title, model, headers, script] of wrapped) {
    it(`${title}: the 400 stays invalid_request naming the tools, nothing latched, the next tenant's prefill not refused`, async () => {
      await withAnswer(script, async () => {
        const engine = wire.engine({ model, apiKey: 'k', headers });
        const e = await rejection(engine.generate(WITH_TOOL));
        expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param: 'tools[0].function.parameters' });
        expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
        expect(engine.refusal({ messages: [...ENDS_WITH_ASSISTANT.messages, { role: 'system', content: 'Be brief.' }] })).toBeUndefined();
      });
    });
  }

  it('through a router: no fallback (the caller\'s error), and neither deployment latches', async () => {
    const r = new LLMRouter(
      {
        models: [
          { name: 'a', engine: 'openai-compatible', baseURL: wire.server.baseURL, apiKey: 'k', model: 'anthropic/claude-opus-latest', priority: 1 },
          { name: 'b', engine: 'openai-compatible', baseURL: wire.server.baseURL, apiKey: 'k', model: 'anthropic/claude-sonnet-latest', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { a: ['b'] } },
      },
      { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {}, sleep: async () => {} },
    );
    try {
      await withAnswer(wrapped[0]![3], async () => {
        const before = wire.server.requests.length;
        const e = await rejection(r.generate(WITH_TOOL, { model: 'a' }));
        expect(LLMError.isInstance(e) && e.code).toBe('invalid_request');
        expect(wire.server.requests.length).toBe(before + 1);
        const plan = await r.route(ENDS_WITH_ASSISTANT, { model: 'a', explain: true });
        expect({ selected: plan.selected, excluded: plan.excluded }).toEqual({ selected: 'a', excluded: [] });
      });
    } finally {
      await r.close();
    }
  });

  const notTheirs: Array<[string, unknown]> = [
    ['not at the start of the message', { error: { message: `Invalid value: '${BAIT}'`, type: 'invalid_request_error' } }],
    ['not at the start of the raw message', { error: { message: 'Provider returned error', code: 400, metadata: { raw: JSON.stringify({ error: { message: `Bad request: ${BAIT}` } }) } } }],
    ['at the start, but of a param that is not the messages', { error: { message: BAIT, type: 'invalid_request_error', param: 'tools' } }],
    ['at the start of the raw message, of a param that is not the messages', { error: { message: 'Provider returned error', code: 400, metadata: { raw: JSON.stringify({ error: { message: BAIT, param: 'tools[0].function.name' } }) } } }],
    ['raw that is not JSON', { error: { message: 'Provider returned error', code: 400, metadata: { raw: `x ${BAIT}` } } }],
    ['after a prefix that is not LiteLLM\'s', { error: { message: `litellm.BadRequestError: OpenAIException - Invalid schema: ${BAIT}` } }],
    ['after something that looks like LiteLLM\'s prefix but is not at the start', { error: { message: `Unknown tool name: litellm.BadRequestError: AnthropicException - ${BAIT}` } }],
    ['after LiteLLM\'s prefix, the body naming a param that is not the messages', { error: { message: `litellm.BadRequestError: AnthropicException - ${BAIT}`, param: 'tools' } }],
  ];
  it.each(notTheirs)('is no refusal of the final turn when %s', (_title, body) => {
    expect(codeForOpenAIError(readOpenAIErrorFields(body), 400)).toBe(undefined);
  });

  it("the providers' own messages still are, as sent and as wrapped", () => {
    const raw = (inner: unknown) => ({ error: { message: 'Provider returned error', code: 400, metadata: { raw: JSON.stringify(inner) } } });
    const litellm = (provider: string, inner: string) => ({ error: { message: `litellm.BadRequestError: ${provider}Exception - ${inner}. Received Model Group=m`, param: null, code: '400' } });
    const vertexBytes = `b'${JSON.stringify({ error: { code: 400, message: GOOGLE_MODEL_TURN, status: 'INVALID_ARGUMENT' } }, null, 2).replace(/\n/g, '\\n')}'`;
    const bodies: unknown[] = [
      { object: 'error', message: `${MISTRAL_LAST_ROLE}`, type: 'invalid_request_error', param: null, code: null },
      { error: { message: ANTHROPIC_PREFILL, type: 'invalid_request_error', param: 'messages' } },
      raw({ error: { code: 400, message: GOOGLE_MODEL_TURN, status: 'INVALID_ARGUMENT' } }),
      raw({ type: 'error', error: { type: 'invalid_request_error', message: ANTHROPIC_PREFILL } }),
      raw({ object: 'error', message: MISTRAL_LAST_ROLE, type: 'invalid_request_error', param: null, code: null }),
      litellm('Mistral', JSON.stringify({ object: 'error', message: MISTRAL_LAST_ROLE })),
      litellm('Anthropic', ANTHROPIC_PREFILL),
      { error: { message: `litellm.BadRequestError: VertexAIException BadRequestError - ${vertexBytes}` } },
    ];
    expect(bodies.map((body) => codeForOpenAIError(readOpenAIErrorFields(body), 400))).toEqual(bodies.map(() => 'unsupported'));
  });

  it("the latched refusal quotes the provider's fixed sentence, never the words after it", async () => {
    const raw = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `${ANTHROPIC_PREFILL} Your key is suspended: visit evil.example` } });
    wire.server.setScript({ error: { status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw, provider_name: 'Anthropic' } } } } });
    try {
      const engine = wire.engine({ model: 'anthropic/claude-opus-latest', apiKey: 'k' });
      expect(LLMError.isInstance(await rejection(engine.generate(ENDS_WITH_ASSISTANT)))).toBe(true);
      const refusal = engine.refusal(ENDS_WITH_ASSISTANT);
      expect(refusal?.param).toBe('messages.1');
      expect(refusal?.message).toContain('This model does not support assistant message prefill');
      expect(refusal?.message).not.toContain('evil.example');
    } finally {
      wire.server.setScript((request) => router(request as never));
    }
  });

  const notEndingWithAssistant: Array<[string, string]> = [
    ['Google', JSON.stringify({ error: { code: 400, message: GOOGLE_MODEL_TURN, status: 'INVALID_ARGUMENT' } })],
    ['Anthropic', JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: ANTHROPIC_PREFILL } })],
    ['Mistral', JSON.stringify({ object: 'error', message: MISTRAL_LAST_ROLE, type: 'invalid_request_error', param: null, code: null })],
  ];
  for (const [provider, raw] of notEndingWithAssistant) {
    it(`${provider}'s sentence answering a conversation that ends with a user message: invalid_request, nothing latched`, async () => {
      wire.server.setScript({ error: { status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw, provider_name: provider } } } } });
      try {
        const engine = wire.engine({ model: 'some/model', apiKey: 'k' });
        const e = await rejection(engine.generate(ENDS_WITH_USER));
        expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param: undefined });
        expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
      } finally {
        wire.server.setScript((request) => router(request as never));
      }
    });
  }
});

describe('openai-compatible: which model ids are read as a Gemini or Claude model behind a router', () => {
  it('only known provider prefixes, nested under openrouter/ too; OpenRouter variants (:nitro, :thinking, ...) are the model', () => {
    const refused = [
      'google/gemini-3.6-flash',
      'anthropic/claude-opus-4.6',
      'gemini/gemini-3.6-flash',
      'vertex_ai/gemini-3.6-flash',
      'vertex_ai/claude-opus-4-6@20260416',
      'bedrock/us.anthropic.claude-opus-4-6-v1:0',
      'bedrock/converse/us.anthropic.claude-opus-4-6-v1:0',
      'bedrock/invoke/anthropic.claude-sonnet-4-6',
      'openrouter/anthropic/claude-opus-4.6',
      'openrouter/google/gemini-3.6-flash',
      'google-ai-studio/gemini-3.6-flash',
      'google-vertex-ai/gemini-3.6-flash',
      'aws-bedrock/anthropic.claude-opus-4-6-v1:0',
      'anthropic/claude-opus-4.6:nitro',
      'anthropic/claude-opus-4.6:thinking',
      'anthropic/claude-sonnet-4.6:floor',
      'anthropic/claude-opus-4.6:exacto',
      'google/gemini-3.6-flash:floor',
    ];
    const taken = [
      'someorg/claude-sonnet-4.6-distill-qwen3-8b',
      'unsloth/gemini-3.6-flash',
      'my-proxy/anthropic/claude-opus-4.6',
      'anthropic/claude-sonnet-4.5:nitro',
      'claude-opus-4-6',
      'gemini-3.6-flash',
    ];
    expect(refused.filter((model) => engineFor(model).refusal(ENDS_WITH_ASSISTANT) === undefined)).toEqual([]);
    expect(taken.filter((model) => engineFor(model).refusal(ENDS_WITH_ASSISTANT) !== undefined)).toEqual([]);
  });

  it('never on a preset that serves its own models (vllm, ollama, llamacpp, lmstudio), whatever options.prefill says', async () => {
    for (const preset of ['vllm', 'ollama', 'llamacpp', 'lmstudio'] as const) {
      for (const model of ['someorg/claude-sonnet-4.6-distill-qwen3-8b', 'anthropic/claude-opus-4.6', 'google/gemini-3.6-flash']) {
        expect({ preset, model, refusal: engineFor(model, { preset }).refusal(ENDS_WITH_ASSISTANT) }).toEqual({ preset, model, refusal: undefined });
      }
    }
    for (const prefill of ['continue_final_message', 'prefix', 'native', 'none'] as const) {
      expect(engineFor('anthropic/claude-opus-4.6', { preset: 'vllm', options: { prefill } }).refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
    }
    // A vLLM serving a Hugging Face repo named after Claude continues the prefill.
    const engine = engineFor('someorg/claude-sonnet-4.6-distill-qwen3-8b', { preset: 'vllm' });
    expect((await engine.generate({ ...ENDS_WITH_ASSISTANT, continueFinalMessage: true })).text).toBe('from someorg/claude-sonnet-4.6-distill-qwen3-8b');
    expect(wire.lastBody()).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
  });
});

describe('openai-compatible: where the conversation ends, for Gemini and Claude behind a router', () => {
  const ASSISTANT_THEN_SYSTEM: GenerateRequest = { messages: [...ENDS_WITH_ASSISTANT.messages, { role: 'system', content: 'Answer in French.' }] };
  const USER_THEN_SYSTEM: GenerateRequest = { messages: [{ role: 'user', content: 'Hi' }, { role: 'system', content: 'Answer in French.' }] };

  it('a system message after the assistant turn: still the assistant turn last (as the native engines read it)', () => {
    for (const model of ['anthropic/claude-opus-4.6', 'google/gemini-3.6-flash']) {
      expect(engineFor(model).refusal(ASSISTANT_THEN_SYSTEM)).toMatchObject({ param: 'messages.1' });
      expect(engineFor(model).refusal(USER_THEN_SYSTEM)).toBeUndefined();
    }
  });

  for (const [title, model, headers] of [
    ['Anthropic (OpenRouter)', 'anthropic/claude-opus-latest', {}],
    ['Google (LiteLLM)', 'gemini-flash-latest', { 'x-wrap': 'litellm' }],
  ] as const) {
    it(`${title}'s sentence latched: a system message after the assistant turn is refused naming it, one after a user turn is not (Mistral's rule is Mistral's)`, async () => {
      const engine = wire.engine({ model, apiKey: 'k', headers });
      await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(engine.refusal(ASSISTANT_THEN_SYSTEM)).toMatchObject({ param: 'messages.1' });
      expect(engine.refusal(USER_THEN_SYSTEM)).toBeUndefined();
      expect(engine.refusal(ENDS_WITH_USER)).toBeUndefined();
    });
  }
});

// LiteLLM's older releases reach Mistral with the `openai` client and pass on that client's message: `Error code: 400 - `
// and the body as a Python dict literal (huggingface/smolagents#757, BerriAI/litellm#3918).
const PY_MISTRAL_LAST_ROLE = `Error code: 400 - {'object': 'error', 'message': '${MISTRAL_LAST_ROLE}', 'type': 'invalid_request_error', 'param': None, 'code': None}`;
const litellmBody = (after: string) => ({ error: { message: `litellm.BadRequestError: ${after}`, type: null, param: null, code: '400' } });

describe("openai-compatible: LiteLLM's other wrappings of a provider's 400 (review of 34884e5)", () => {
  it("LiteLLM's older Mistral wrapping (Error code: 400 - and a Python dict): unsupported naming messages.1, latched", async () => {
    wire.server.setScript({ error: { status: 400, body: litellmBody(`MistralException - ${PY_MISTRAL_LAST_ROLE}`) } });
    try {
      const engine = wire.engine({ model: 'mistral-small', apiKey: 'k' });
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toMatchObject({ param: 'messages.1' });
    } finally {
      wire.server.setScript((request) => router(request as never));
    }
  });

  it("a Python dict whose value (the caller's words, quoted with \") holds a fake 'message': is that value: invalid_request naming the tools, nothing latched", async () => {
    // Python quotes a string holding ' with ": a search for `'message': '` would find the planted one.
    const planted = `Error code: 400 - {'object': 'error', 'message': "Invalid schema for function 'lookup': Missing 'message': '${MISTRAL_LAST_ROLE}'", 'type': 'invalid_request_error', 'param': 'tools[0].function.parameters', 'code': None}`;
    const noParam = planted.replace("'param': 'tools[0].function.parameters'", "'param': None");
    for (const [text, param] of [[planted, 'tools[0].function.parameters'], [noParam, undefined]] as const) {
      await withAnswer({ error: { status: 400, body: litellmBody(`MistralException - ${text}`) } }, async () => {
        const engine = wire.engine({ model: 'mistral-small', apiKey: 'k' });
        const e = await rejection(engine.generate(WITH_TOOL));
        expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param });
        expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
      });
    }
  });

  it("reads Python's literals: both quotes and their escapes, None/True/False, numbers, nested dicts and lists, tuples", () => {
    const literal = String.raw`{'a': "it's", 'b': 'say \'hi\'\n\x41\u00e9\\', 'c': [1, -2.5, 3e2, (True, False, None)], 'd': {'e': {}}, 'f': 'tab\tq"'} trailing`;
    expect(leadingPythonLiteral(literal)).toEqual({ a: "it's", b: "say 'hi'\nAé\\", c: [1, -2.5, 300, [true, false, null]], d: { e: {} }, f: 'tab\tq"' });
    expect(['{', "{'a': 'unterminated}", "{'a' 1}", '{1: 2}', "{'a': nope}", '['.repeat(100)].map(leadingPythonLiteral)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it("LiteLLM in front of OpenRouter: the provider's body in metadata.raw inside LiteLLM's JSON is read, unsupported and latched", async () => {
    const raw = JSON.stringify({ error: { code: 400, message: GOOGLE_MODEL_TURN, status: 'INVALID_ARGUMENT' } });
    const openrouter = JSON.stringify({ error: { message: 'Provider returned error', code: 400, metadata: { raw, provider_name: 'Google' } } });
    wire.server.setScript({ error: { status: 400, body: litellmBody(`OpenrouterException - ${openrouter}`) } });
    try {
      const engine = wire.engine({ model: 'openrouter/google/gemini-flash-latest', apiKey: 'k' });
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
      expect(e.message).toContain(GOOGLE_MODEL_TURN);
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toMatchObject({ param: 'messages.1' });
    } finally {
      wire.server.setScript((request) => router(request as never));
    }
  });

  const params: Array<[string, string, string | undefined]> = [
    ["OpenAI's Responses-API body (input: a field a chat request never sent)", 'input', undefined],
    ['a sentence in the param', 'messages[2] assistant content must contain at least one part', undefined],
    ['a chat-completions field', 'tools[0].function.parameters', 'tools[0].function.parameters'],
    ['the messages', 'messages[2].content', 'messages[2].content'],
    ['max_completion_tokens', 'max_completion_tokens', 'max_completion_tokens'],
  ];
  for (const [title, inner, param] of params) {
    it(`the param inside OpenRouter's wrapping, ${title}: ${param ?? 'left out'}`, async () => {
      const raw = JSON.stringify({ error: { message: 'Invalid request.', type: 'invalid_request_error', param: inner } });
      await withAnswer({ error: { status: 400, body: { error: { message: 'Provider returned error', code: 400, metadata: { raw, provider_name: 'OpenAI' } } } } }, async () => {
        const e = await rejection(wire.engine({ model: 'openai/gpt-5', apiKey: 'k' }).generate(WITH_TOOL));
        expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param });
      });
    });
  }
});

describe('openai-compatible: a routed Gemini or Claude refuses the final turn whatever options.prefill says (review of 34884e5)', () => {
  it('an explicit prefill on a router preset (or none) keeps the refusal; refusesFinalAssistant: false alone sends it', async () => {
    for (const prefill of ['continue_final_message', 'prefix', 'native', 'none'] as const) {
      for (const preset of ['openrouter', undefined] as const) {
        const engine = engineFor('anthropic/claude-opus-4.6', { preset, options: { prefill } });
        expect({ prefill, preset, refusal: engine.refusal({ ...ENDS_WITH_ASSISTANT, continueFinalMessage: true })?.param }).toEqual({ prefill, preset, refusal: 'messages.1' });
      }
    }
    const before = wire.server.requests.length;
    const e = await rejection(engineFor('google/gemini-3.6-flash', { options: { prefill: 'native' } }).generate(ENDS_WITH_ASSISTANT));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    expect(wire.server.requests.length).toBe(before);
    const sent = engineFor('anthropic/claude-opus-4.6', { options: { prefill: 'native', refusesFinalAssistant: false } });
    expect(sent.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
    expect(LLMError.isInstance(await rejection(sent.generate(ENDS_WITH_ASSISTANT)))).toBe(true);
    expect(wire.server.requests.length).toBe(before + 1);
  });

  it('LiteLLM routes to Claude in Azure AI Foundry (azure_ai/) and through Vercel (vercel_ai_gateway/) are read', () => {
    const refused = ['azure_ai/claude-opus-4-6', 'azure_ai/claude-sonnet-4-6', 'vercel_ai_gateway/anthropic/claude-opus-4.6', 'vercel_ai_gateway/google/gemini-3.6-flash'];
    const taken = ['azure_ai/claude-sonnet-4-5', 'azure_ai/mistral-large-2411', 'vercel_ai_gateway/anthropic/claude-sonnet-4.5', 'vercel_ai_gateway/someorg/claude-opus-4.6'];
    expect(refused.filter((model) => engineFor(model, { preset: undefined }).refusal(ENDS_WITH_ASSISTANT) === undefined)).toEqual([]);
    expect(taken.filter((model) => engineFor(model, { preset: undefined }).refusal(ENDS_WITH_ASSISTANT) !== undefined)).toEqual([]);
  });
});

describe('review of bcc347b: a wrapped param and a large Python body', () => {
  it('a field path from inside the wrapping is kept (stream, a providerOptions field), a Responses-API field is not', () => {
    for (const [inner, expected] of [
      ['stream', 'stream'],
      ['reasoning', 'reasoning'],
      ['safe_prompt', 'safe_prompt'],
      ['input', undefined],
      ['instructions', undefined],
      ['tools[0].function.parameters', 'tools[0].function.parameters'],
      // Review of a89e48f: only names, `.name` and `[N]` pass, at most 256 characters (no control characters, markup
      // or a 60,000-character value reaching the client's `param`).
      ['messages.0\u001b[2J\u0007', undefined],
      ['messages.0\u0000\u202eevil', undefined],
      ['messages.<script>alert(1)</script>', undefined],
      [`messages.${'a'.repeat(60_000)}`, undefined],
      ['x'.repeat(257), undefined],
    ] as const) {
      const raw = JSON.stringify({ error: { message: 'Unsupported value', type: 'invalid_request_error', param: inner, code: 'unsupported_value' } });
      expect(providerParam({ message: 'Provider returned error', raw }), inner).toBe(expected);
    }
  });

  it("a Python literal over 64 KiB after LiteLLM's prefix is not parsed (a refusal's body is small)", () => {
    const big = `litellm.BadRequestError: MistralException - Error code: 400 - {'object': 'error', 'message': 'Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant', 'pad': '${'x'.repeat(70 * 1024)}'}`;
    const small = big.replace(/'pad': 'x+'/, "'pad': 'x'");
    expect(providerErrorMessages(small).some((m) => m.message.startsWith('Expected last role'))).toBe(true);
    expect(providerErrorMessages(big).some((m) => m.message.startsWith('Expected last role'))).toBe(false);
  });
});
