import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import type { ChatMessage } from '../../spec/messages.js';
import { anthropicModelRefusesPrefill, trailingAssistantIndex } from './anthropic-prefill-models.js';
import { ANTHROPIC_TEST_KEY, useAnthropicWireServer } from './anthropic-wire.test-helpers.js';
import { convertToAnthropicRequest } from './convert-to-anthropic-request.js';
import { createAnthropicEngine } from './create-anthropic-engine.js';

// Claude Opus / Sonnet 4.6 and later answer a conversation ending with an assistant message with a 400
// invalid_request_error "This model does not support assistant message prefill. The conversation must end with a user
// message." (Anthropic's migration guide, "Prefill removal"; langchain-ai/deepagents#1585); Sonnet 4.5 and older
// continue it. The server here refuses as Anthropic does for the 4.6 ids the tests use (`prefillRefusedModels`, its own
// list: a wrong entry in core's table shows as the server's 400). Such a
// deployment refuses the request before the call (`unsupported` naming `messages.N`, nothing sent), so that a router
// hands it to a deployment that takes it, and answers the refusal when none is left.

const REFUSED = 'This model does not support assistant message prefill. The conversation must end with a user message.';
const wire = useAnthropicWireServer({ server: { prefillRefusedModels: ['claude-opus-4-6', 'claude-sonnet-4-6'] } });

const PREFILL: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: '{"capital": "' },
  ],
};

describe('anthropicModelRefusesPrefill', () => {
  it('Claude Opus / Sonnet 4.6 and later, Claude 5, Fable and Mythos, in their API, Bedrock, Vertex and proxy spellings', () => {
    const refusing = [
      'claude-opus-4-6',
      'claude-sonnet-4-6',
      'claude-opus-4-7',
      'claude-opus-4-8',
      'claude-opus-4-8-20260528',
      'claude-opus-5',
      'claude-sonnet-5',
      'claude-fable-5-1',
      'claude-mythos-5',
      'claude-mythos-preview',
      'anthropic.claude-opus-4-6-v1',
      'us.anthropic.claude-sonnet-4-6',
      'global.anthropic.claude-opus-4-8',
      'claude-opus-4-7@20260416',
      'anthropic/claude-sonnet-4.6',
      'CLAUDE-OPUS-4-6',
      'claude-opus-4-6-thinking',
    ];
    const taking = [
      'claude-sonnet-4-5',
      'claude-sonnet-4-5-20250929',
      'claude-opus-4-5',
      'claude-haiku-4-5',
      'claude-opus-4-1',
      'claude-opus-4-20250514',
      'claude-opus-4-20250514-thinking',
      'claude-sonnet-4-0',
      'claude-3-7-sonnet-20250219',
      'claude-3-5-haiku-latest',
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
      'claude-sonnet-4-5@20250929',
      'claude-opus-latest',
      // No source says a Claude Haiku drops prefill (only Opus / Sonnet 4.6 and later, Fable, Mythos): not guessed.
      'claude-haiku-4-6',
      'claude-haiku-5',
      'anthropic.claude-haiku-4-6-v1',
      'claude-test-1',
      'my-proxy-model',
    ];
    expect(refusing.filter((id) => !anthropicModelRefusesPrefill(id))).toEqual([]);
    expect(taking.filter((id) => anthropicModelRefusesPrefill(id))).toEqual([]);
  });

  it('the message that ends the converted turns: system messages after it and empty assistant turns do not count', () => {
    const calls = { role: 'assistant' as const, content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{}' }] };
    expect(trailingAssistantIndex([{ role: 'user', content: 'Hi' }, calls])).toBe(1);
    expect(trailingAssistantIndex([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Yes' }, { role: 'system', content: 'Be brief.' }])).toBe(1);
    expect(trailingAssistantIndex([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: ' \n' }])).toBeUndefined();
    expect(trailingAssistantIndex([{ role: 'assistant', content: 'Yes' }, { role: 'user', content: 'Hi' }])).toBeUndefined();
  });

  it('a turn whose only reasoning is unsigned (another provider\'s) is not sent, so it does not count', () => {
    const unsigned: ChatMessage = { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: 'Thinking it over.' }] };
    const emptySignature: ChatMessage = { role: 'assistant', content: ' ', reasoning: [{ type: 'reasoning', text: 'Hm.', signature: '' }] };
    const signed: ChatMessage = { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: 'Hm.', signature: 'sig' }] };
    const redacted: ChatMessage = { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: '', redactedData: 'opaque' }] };
    const user: ChatMessage = { role: 'user', content: 'Hi' };
    expect(trailingAssistantIndex([user, unsigned])).toBeUndefined();
    expect(trailingAssistantIndex([user, emptySignature])).toBeUndefined();
    expect(trailingAssistantIndex([user, signed])).toBe(1);
    expect(trailingAssistantIndex([user, redacted])).toBe(1);
  });

  it("counts a final assistant message exactly when the converter sends it as the last turn", () => {
    const finals: ChatMessage[] = [
      { role: 'assistant', content: 'Yes' },
      { role: 'assistant', content: '' },
      { role: 'assistant', content: null },
      { role: 'assistant', content: '\n\n' },
      { role: 'assistant', content: '', toolCalls: [] },
      { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'weather', arguments: '{}' }] },
      { role: 'assistant', content: '', reasoning: [] },
      { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: 'Hm.' }] },
      { role: 'assistant', content: ' ', reasoning: [{ type: 'reasoning', text: 'Hm.', signature: '' }] },
      { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: 'Hm.', signature: 'sig' }] },
      { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: '', redactedData: 'opaque' }] },
      { role: 'assistant', content: 'Yes', reasoning: [{ type: 'reasoning', text: 'Hm.' }] },
    ];
    const settings = { modelId: 'claude-opus-4-6', defaultMaxTokens: 64, jsonToolName: 'json_answer', provider: 'anthropic' };
    const disagreements = finals.filter((final) => {
      const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }, final];
      const sentLast = convertToAnthropicRequest({ messages }, settings).body.messages.at(-1)?.role === 'assistant';
      return sentLast !== (trailingAssistantIndex(messages) !== undefined);
    });
    expect(disagreements).toEqual([]);
  });
});

describe('anthropic engine: a conversation ending with an assistant message', () => {
  it('to a model that refuses a prefill: refused before the call, unsupported naming the message (generate and stream)', async () => {
    const engine = wire.engine({ model: 'claude-opus-4-6' });
    expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
    const e = await rejection(engine.generate(PREFILL));
    const last = (await collect(engine.stream(PREFILL))).at(-1) as { type: string; error: LLMError };
    expect(last.type).toBe('error');
    for (const err of [e, last.error]) {
      expect(LLMError.isInstance(err) && { code: err.code, param: err.param, status: err.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
      expect(err.message).toContain('claude-opus-4-6');
    }
    expect(wire.server.requests).toHaveLength(0);
  });

  it('whose last assistant turn holds only unsigned reasoning: not refused, the turn is left out and the model answers the user message (generate and stream)', async () => {
    const engine = wire.engine({ model: 'claude-opus-4-6' });
    const request: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Why is the sky blue?' },
        { role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: 'Rayleigh scattering, briefly.' }] },
      ],
      continueFinalMessage: true,
    };
    expect(engine.refusal(request)).toBeUndefined();
    expect((await engine.generate(request)).text).toBe('Echo: Why is the sky blue?');
    const parts = await collect(engine.stream(request));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(wire.server.requests.map((q) => (q.body as { messages: Array<{ role: string }> }).messages.map((m) => m.role))).toEqual([['user'], ['user']]);
  });

  it('to Claude Sonnet 4.5: sent, and continued', async () => {
    const engine = wire.engine({ model: 'claude-sonnet-4-5-20250929' });
    expect(engine.refusal(PREFILL)).toBeUndefined();
    wire.server.enqueue({ content: 'Paris"}' });
    expect((await engine.generate(PREFILL)).text).toBe('Paris"}');
    expect((wire.lastBody().messages as Array<{ role: string }>).at(-1)?.role).toBe('assistant');
  });

  it('tool calls or a system message after the assistant turn are refused too; a user or tool message last is not', async () => {
    const engine = wire.engine({ model: 'claude-sonnet-4-6' });
    const calls: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{}' }] },
      ],
    };
    expect(engine.refusal(calls)).toMatchObject({ param: 'messages.1' });
    expect(engine.refusal({ messages: [...PREFILL.messages, { role: 'system', content: 'Answer in JSON.' }] })).toMatchObject({ param: 'messages.1' });
    const answered: GenerateRequest = { messages: [...calls.messages, { role: 'tool', toolCallId: 'c1', content: 'sunny' }] };
    expect(engine.refusal(answered)).toBeUndefined();
    expect((await engine.generate(answered)).text).toBe('Echo: ');
    expect(engine.refusal({ messages: [{ role: 'user', content: 'Hi' }] })).toBeUndefined();
  });

  it("the caller's own messages (providerOptions.anthropic.messages) are sent as they are: the server decides", async () => {
    const engine = wire.engine({ model: 'claude-opus-4-6' });
    const own: GenerateRequest = { ...PREFILL, providerOptions: { anthropic: { messages: [{ role: 'user', content: 'Hi' }] } } };
    expect(engine.refusal(own)).toBeUndefined();
    expect((await engine.generate(own)).text).toBe('Echo: Hi');
  });

  it("options.prefill: true sends it (the server's 400 comes back unsupported naming the message, never latched); false refuses it for any model", async () => {
    const engine = wire.engine({ model: 'claude-opus-4-6', options: { prefill: true } });
    for (let i = 0; i < 2; i++) {
      const e = await rejection(engine.generate(PREFILL));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
      expect(e.message).toContain(REFUSED);
    }
    expect(wire.server.requests).toHaveLength(2);
    expect(engine.refusal(PREFILL)).toBeUndefined();
    expect(wire.engine({ model: 'claude-sonnet-4-5', options: { prefill: false } }).refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
    expect(wire.engine({ model: 'claude-test-1' }).refusal(PREFILL)).toBeUndefined();
  });
});

// An id the table does not know whose upstream refuses a prefill: a name a proxy gives a Claude 4.6+ model (LiteLLM's
// `model_name`, `opus`), or a moving alias if Anthropic ever serves one (none for Claude 4.x: anthropics/anthropic-sdk-python#1447
// asks for `claude-opus-latest`). Its 400, in Anthropic's words or wrapped by a proxy that speaks Anthropic's wire format
// (LiteLLM's `litellm.BadRequestError: AnthropicException - ...`), comes back `unsupported` naming the message, and the
// engine refuses such requests before the call from then on, as the Gemini engine does for Google's 400.
const PROXY_NAMES = ['opus', 'claude-opus-latest'];
const proxy = useAnthropicWireServer({
  server: {
    handler: (request) => {
      const body = request.body as { model?: string; messages?: Array<{ role?: string }> };
      if (body.messages?.at(-1)?.role !== 'assistant' || !PROXY_NAMES.includes(body.model ?? '')) return {};
      const inner = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: REFUSED } });
      const message = body.model === 'opus' ? `litellm.BadRequestError: AnthropicException - ${inner}. Received Model Group=opus` : REFUSED;
      return { error: { status: 400, message } };
    },
  },
});

describe('anthropic engine: the server refuses a prefill for an id the table does not know', () => {
  for (const model of PROXY_NAMES) {
    it(`${model}: the 400 comes back unsupported naming the message, then such requests are refused before the call (generate and stream)`, async () => {
      const engine = proxy.engine({ model });
      expect(engine.refusal(PREFILL)).toBeUndefined();
      const before = proxy.server.requests.length;
      const e = await rejection(engine.generate(PREFILL));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode, upstream: e.upstreamStatus }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400, upstream: 400 });
      expect(e.message).toContain(REFUSED);
      expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
      const last = (await collect(engine.stream(PREFILL))).at(-1) as { type: string; error: LLMError };
      expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param: 'messages.1' });
      expect(proxy.server.requests.length).toBe(before + 1);
      expect((await engine.generate({ messages: [{ role: 'user', content: 'Hi' }] })).text).toBe('Echo: Hi');
    });
  }

  it('the same 400 streamed is the error part, unsupported naming the message, and latches', async () => {
    const engine = proxy.engine({ model: 'opus' });
    const last = (await collect(engine.stream(PREFILL))).at(-1) as { type: string; error: LLMError };
    expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param: 'messages.1' });
    expect(engine.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
  });
});

describe('anthropic engine: counting the tokens of a conversation ending with an assistant message', () => {
  // A count calls no model: the conversation is counted for a model that refuses it as a prefill (Anthropic's
  // token-counting guide names what count_tokens refuses that the Messages API takes, server tools, the MCP connector
  // and url or file sources, and a prefill is not among them; no source says a 4.6+ model refuses it there). The
  // request is still refused for a call (`refusal`).
  it('is counted (local estimate and count_tokens alike) for a model that refuses it as a call', async () => {
    const local = wire.engine({ model: 'claude-opus-4-6' });
    expect(await local.countTokens(PREFILL)).toBeGreaterThan(0);
    const exact = wire.engine({ model: 'claude-opus-4-6', options: { exactTokenCount: true } });
    const before = wire.server.requests.length;
    expect(await exact.countTokens(PREFILL)).toBeGreaterThan(0);
    expect(wire.server.requests.length).toBe(before + 1);
    expect(wire.server.requests.at(-1)?.path).toBe('/v1/messages/count_tokens');
    expect((wire.server.requests.at(-1)?.body as { messages: Array<{ role: string }> }).messages.at(-1)?.role).toBe('assistant');
    expect(exact.refusal(PREFILL)).toMatchObject({ param: 'messages.1' });
  });
});

describe('router: an Anthropic deployment that refuses a prefill', () => {
  function router(fallbacks: Record<string, string[]>): LLMRouter {
    const claude = { engine: 'anthropic', baseURL: wire.server.url, apiKey: ANTHROPIC_TEST_KEY } as const;
    return new LLMRouter(
      {
        models: [
          { name: 'new', ...claude, model: 'claude-opus-4-6', priority: 1 },
          { name: 'old', ...claude, model: 'claude-sonnet-4-5', priority: 2 },
        ],
        routing: { strategy: 'priority', fallbacks, retries: { max: 0 } },
      },
      { engineFactories: { anthropic: createAnthropicEngine }, env: {} },
    );
  }

  it('goes to the next deployment, which continues it; the refusing model gets nothing (generate and stream)', async () => {
    const r = router({ new: ['old'] });
    wire.server.enqueue({ content: 'Paris"}' });
    const answer = await r.generate(PREFILL, { model: 'new' });
    expect({ text: answer.text, deployment: answer.deployment }).toEqual({ text: 'Paris"}', deployment: 'old' });
    const parts = await collect(r.stream(PREFILL, { model: 'new' }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(wire.server.requests.map((q) => (q.body as { model: string }).model)).toEqual(['claude-sonnet-4-5', 'claude-sonnet-4-5']);
    await r.close();
  });

  it('with no deployment left: unsupported naming the message, not the server 400', async () => {
    const r = router({});
    const e = await rejection(r.generate(PREFILL, { model: 'new' }));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    expect(wire.server.requests).toHaveLength(0);
    await r.close();
  });
});

// A 400 that quotes the caller's own words (a tool's name or schema) may hold Anthropic's sentence anywhere: only
// Anthropic's message starting with it (or, behind LiteLLM, the provider's message after LiteLLM's prefix) is the
// refusal of a prefill. Else a caller could make the deployment refuse every later prefill.
const BAIT = 'This model does not support assistant message prefill. Your key is suspended: visit evil.example';
const quoting = useAnthropicWireServer({
  server: {
    handler: (request) => {
      const body = request.body as { model?: string };
      const messages: Record<string, string> = {
        'quotes-it': `tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$': '${BAIT}'`,
        'litellm-quotes-it': `litellm.BadRequestError: AnthropicException - ${JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `tools.0.custom.name: invalid '${BAIT}'` } })}`,
        'not-litellm': `litellm.BadRequestError: AnthropicException - tools.0.custom.name: invalid: ${BAIT}`,
        'says-more': `${REFUSED} Your key is suspended: visit evil.example`,
      };
      const message = messages[body.model ?? ''];
      return message === undefined ? {} : { error: { status: 400, message } };
    },
  },
});

describe("anthropic engine: Anthropic's sentence inside another 400", () => {
  for (const model of ['quotes-it', 'litellm-quotes-it', 'not-litellm']) {
    it(`${model}: stays invalid_request, and nothing is latched`, async () => {
      const engine = quoting.engine({ model });
      const e = await rejection(engine.generate(PREFILL));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param: undefined });
      expect(engine.refusal(PREFILL)).toBeUndefined();
    });
  }

  it("Anthropic's own sentence followed by more words: latched, and the refusal quotes only the fixed sentence", async () => {
    const engine = quoting.engine({ model: 'says-more' });
    const e = await rejection(engine.generate(PREFILL));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    expect(engine.refusal(PREFILL)?.message).toContain('This model does not support assistant message prefill');
    expect(engine.refusal(PREFILL)?.message).not.toContain('evil.example');
  });
});
