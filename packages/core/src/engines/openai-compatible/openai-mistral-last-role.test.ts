import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import type { OpenAIWireScript } from '../../test/openai-wire-server.js';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// Mistral answers a conversation whose last message is not a user or tool one (nor an assistant one with `prefix:
// true`) with 400 "Expected last role User or Tool (or Assistant with prefix True) for serving but got <role>". The
// engine refuses what it knows before the call (the `mistral` preset and a final assistant message,
// openai-mistral-final-assistant.test.ts); this 400, for a shape that check does not see (a system message after the
// assistant's) or from a server it does not know to be Mistral's (no preset), is `unsupported` naming the last message:
// a router tries its next deployment; the engine refuses such requests before the call from then on only when the refused
// message was an assistant one (a final system message's 400 is not remembered).

const MISTRAL_LAST_ROLE = 'Expected last role User or Tool (or Assistant with prefix True) for serving but got';

/** Mistral's check of the last message, with its error body. */
function mistralLastRole(request: { body: unknown }): OpenAIWireScript {
  const messages = (request.body as { messages?: Array<{ role?: string; prefix?: boolean }> }).messages ?? [];
  const last = messages.at(-1);
  if (!last || last.role === 'user' || last.role === 'tool' || (last.role === 'assistant' && last.prefix === true)) return { text: 'from mistral' };
  const message = `${MISTRAL_LAST_ROLE} ${last.role}`;
  return { error: { status: 400, body: { object: 'error', message, type: 'invalid_request_error', param: null, code: null } } };
}

const wire = useOpenAIWireServer({ script: (request) => mistralLastRole(request) });
const ASSISTANT_THEN_SYSTEM: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: 'Paris.' },
    { role: 'system', content: 'Answer in French from now on.' },
  ],
};
const ENDS_WITH_ASSISTANT: GenerateRequest = { messages: ASSISTANT_THEN_SYSTEM.messages.slice(0, 2) };

describe('openai-compatible: Mistral\'s 400 for the last message\'s role', () => {
  const cases: Array<[string, Partial<ModelConfigInput>, GenerateRequest, string]> = [
    ['no preset (a server not known to be Mistral\'s), a final assistant message', {}, ENDS_WITH_ASSISTANT, 'messages.1'],
  ];
  for (const [title, config, request, param] of cases) {
    it(`${title}: unsupported naming the message, then refused before the call (generate and stream)`, async () => {
      const engine = wire.engine({ ...config, model: 'mistral-small-latest', apiKey: 'k' });
      expect(engine.refusal(request)).toBeUndefined();
      const before = wire.server.requests.length;
      const e = await rejection(engine.generate(request));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode, upstream: e.upstreamStatus }).toEqual({ code: 'unsupported', param, status: 400, upstream: 400 });
      expect(e.message).toContain(MISTRAL_LAST_ROLE);
      expect(wire.server.requests.length).toBe(before + 1);
      // Latched: refused before the call from then on (a router leaves the deployment out for such requests).
      expect(engine.refusal(request)).toMatchObject({ param });
      const last = (await collect(engine.stream(request))).at(-1) as { type: string; error: LLMError };
      expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param });
      expect(wire.server.requests.length).toBe(before + 1);
      // A conversation ending with a user message still goes.
      expect((await engine.generate({ messages: [{ role: 'user', content: 'Hi' }] })).text).toBe('from mistral');
    });
  }

  for (const [title, config] of [
    ['the mistral preset', { preset: 'mistral' }],
    ['no preset', {}],
  ] as const) {
    it(`${title}, a system message after the assistant's ("but got system"): unsupported naming messages.2 each time, nothing latched (a final assistant message is not refused for it)`, async () => {
      const engine = wire.engine({ ...config, model: 'mistral-small-latest', apiKey: 'k' });
      const before = wire.server.requests.length;
      for (let i = 0; i < 2; i++) {
        const e = await rejection(engine.generate(ASSISTANT_THEN_SYSTEM));
        expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'unsupported', param: 'messages.2', status: 400 });
        expect(e.message).toContain(`${MISTRAL_LAST_ROLE} system`);
      }
      expect(wire.server.requests.length).toBe(before + 2);
      expect(engine.refusal(ASSISTANT_THEN_SYSTEM)).toBeUndefined();
      // Only the preset's own rule refuses a final assistant message: the system message's 400 latched nothing.
      expect(engine.refusal(ENDS_WITH_ASSISTANT)?.param).toBe('preset' in config ? 'messages.1' : undefined);
    });
  }

  it('"but got assistant" for a conversation whose last message is a system one (a router moved it): latched', async () => {
    wire.server.setScript({ error: { status: 400, body: { object: 'error', message: `${MISTRAL_LAST_ROLE} assistant`, type: 'invalid_request_error', param: null, code: null } } });
    try {
      const engine = wire.engine({ model: 'mistral-small-latest', apiKey: 'k' });
      const e = await rejection(engine.generate(ASSISTANT_THEN_SYSTEM));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.2' });
      expect(engine.refusal(ENDS_WITH_ASSISTANT)).toMatchObject({ param: 'messages.1' });
    } finally {
      wire.server.setScript((request) => mistralLastRole(request));
    }
  });

  it('options.refusesFinalAssistant: false is kept: the 400 comes back unsupported, and the next such request is sent again', async () => {
    const engine = wire.engine({ preset: 'mistral', model: 'mistral-small-latest', apiKey: 'k', options: { refusesFinalAssistant: false } });
    const before = wire.server.requests.length;
    for (let i = 0; i < 2; i++) {
      const e = await rejection(engine.generate(ENDS_WITH_ASSISTANT));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    }
    expect(wire.server.requests.length).toBe(before + 2);
    expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
  });

  it("the caller's own messages (providerOptions) refused: the error names them, and the engine does not latch", async () => {
    const engine = wire.engine({ model: 'mistral-small-latest', apiKey: 'k' });
    const own: GenerateRequest = { messages: [{ role: 'user', content: 'Hi' }], providerOptions: { openai: { messages: ENDS_WITH_ASSISTANT.messages } } };
    const e = await rejection(engine.generate(own));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'providerOptions.openai.messages' });
    expect(e.message).not.toContain('messages.0');
    expect(engine.refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
    const before = wire.server.requests.length;
    await rejection(engine.generate(ENDS_WITH_ASSISTANT));
    expect(wire.server.requests.length).toBe(before + 1);
  });

  it('the latched refusal says nothing of earlier requests, and reads "an assistant message"', async () => {
    const engine = wire.engine({ model: 'mistral-small-latest', apiKey: 'k' });
    await rejection(engine.generate(ENDS_WITH_ASSISTANT));
    const said = engine.refusal(ENDS_WITH_ASSISTANT)?.message ?? '';
    expect(said).toContain('an assistant message');
    expect(said).not.toMatch(/\bbefore\b|\bearlier\b|\bpreviously\b/);
  });

  it('streamed first: the error part is unsupported naming the message', async () => {
    const engine = wire.engine({ preset: 'mistral', model: 'mistral-small-latest', apiKey: 'k' });
    const last = (await collect(engine.stream(ASSISTANT_THEN_SYSTEM))).at(-1) as { type: string; error: LLMError };
    expect({ type: last.type, code: last.error.code, param: last.error.param }).toEqual({ type: 'error', code: 'unsupported', param: 'messages.2' });
    expect(engine.refusal(ASSISTANT_THEN_SYSTEM)).toBeUndefined();
  });

  it('a router falls back (no strike) each time; a final system message\'s 400 does not leave the deployment out of the next plans', async () => {
    const { router } = openAIWireRouter(
      [
        { name: 'mis', engine: 'openai-compatible', preset: 'mistral', baseURL: wire.server.baseURL, model: 'mistral-small-latest', apiKey: 'k', priority: 1 },
        { name: 'gpt', engine: 'openai-compatible', baseURL: wire.server.baseURL, model: 'gpt-test', apiKey: 'k', priority: 2 },
      ],
      { fallbacks: { mis: ['gpt'] } },
    );
    // The second deployment's server answers a system message last (OpenAI does): only the mistral model is checked.
    wire.server.setScript((request) => ((request.body as { model?: string }).model === 'gpt-test' ? { text: 'a new turn' } : mistralLastRole(request)));
    const r = await router.generate(ASSISTANT_THEN_SYSTEM, { model: 'mis' });
    expect({ text: r.text, deployment: r.deployment }).toEqual({ text: 'a new turn', deployment: 'gpt' });
    expect(r.attempts.map((a) => ({ deployment: a.deployment, errorCode: a.errorCode, strike: a.strike }))).toEqual([
      { deployment: 'mis', errorCode: 'unsupported', strike: undefined },
      { deployment: 'gpt', errorCode: undefined, strike: undefined },
    ]);
    const decision = await router.route(ASSISTANT_THEN_SYSTEM, { model: 'mis', explain: true });
    expect({ selected: decision.selected, excluded: decision.excluded }).toEqual({ selected: 'mis', excluded: [] });
    const again = await router.generate(ASSISTANT_THEN_SYSTEM, { model: 'mis' });
    expect(again.attempts.map((a) => ({ deployment: a.deployment, errorCode: a.errorCode, strike: a.strike }))).toEqual([
      { deployment: 'mis', errorCode: 'unsupported', strike: undefined },
      { deployment: 'gpt', errorCode: undefined, strike: undefined },
    ]);
    await router.close();
    wire.server.setScript((request) => mistralLastRole(request));
  });
});
