import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { usePrimaryAndBackup } from '../../test/wire-router.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// Mistral refuses a conversation that ends with an assistant message unless that message has `prefix: true` (400
// "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant"; langchain-ai/
// langchain#28846, 0xPlaygrounds/rig#708). The server here refuses as Mistral does (`mistralRoles`). A `mistral`
// deployment sends such a message with `prefix: true` when the request asks it continued (`continueFinalMessage`);
// otherwise it refuses the request before the call (`unsupported` naming `messages.N`, nothing sent), so that a
// router hands it to a deployment that takes it (OpenAI answers it with a new turn), as it does for a capability.

const wire = useOpenAIWireServer({ script: { mistralRoles: true, text: 'Paris"}' } });
const mistral: Partial<ModelConfigInput> = { preset: 'mistral', model: 'mistral-small-latest', apiKey: 'k' };
const ENDS_WITH_ASSISTANT: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: '{"capital": "' },
  ],
};

async function refusedBoth(config: Partial<ModelConfigInput>, request: GenerateRequest): Promise<LLMError[]> {
  const engine = wire.engine({ ...config, baseURL: wire.server.baseURL });
  const e = await rejection(engine.generate(request));
  const parts = await collect(engine.stream(request));
  const last = parts.at(-1);
  expect(last?.type).toBe('error');
  return [e, (last as { error: LLMError }).error];
}

describe('openai-compatible: a mistral deployment and a conversation ending with an assistant message', () => {
  it('not asked to continue it: refused before the call, unsupported naming the message (generate and stream)', async () => {
    const before = wire.server.requests.length;
    for (const e of await refusedBoth(mistral, ENDS_WITH_ASSISTANT)) {
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
      expect(e.message).toContain('Mistral');
    }
    expect(wire.server.requests.length).toBe(before);
    expect(wire.engine({ ...mistral, baseURL: wire.server.baseURL }).refusal(ENDS_WITH_ASSISTANT)).toMatchObject({ param: 'messages.1' });
  });

  it('asked to continue it: sent with prefix true, which the server takes', async () => {
    const engine = wire.engine({ ...mistral, baseURL: wire.server.baseURL });
    const request = { ...ENDS_WITH_ASSISTANT, continueFinalMessage: true };
    expect(engine.refusal(request)).toBeUndefined();
    expect((await engine.generate(request)).text).toBe('Paris"}');
    expect((wire.lastBody().messages as Array<Record<string, unknown>>).at(-1)).toMatchObject({ role: 'assistant', prefix: true });
  });

  it('an assistant message with tool calls last, or another prefill way, is refused too; a user message last is not', async () => {
    const engine = wire.engine({ ...mistral, baseURL: wire.server.baseURL });
    const calls: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{}' }] },
      ],
      continueFinalMessage: true,
    };
    expect(engine.refusal(calls)).toMatchObject({ param: 'messages.1' });
    const otherWay = wire.engine({ ...mistral, baseURL: wire.server.baseURL, options: { prefill: 'none' } });
    expect(otherWay.refusal({ ...ENDS_WITH_ASSISTANT, continueFinalMessage: true })).toMatchObject({ param: 'messages.1' });
    expect(engine.refusal({ messages: [{ role: 'user', content: 'Hi' }] })).toBeUndefined();
    expect((await engine.generate({ messages: [{ role: 'user', content: 'Hi' }] })).text).toBe('Paris"}');
  });

  it('the refusal says why the message is not sent as a prefix, in words true for core and the gateway alike', () => {
    const engine = wire.engine({ ...mistral, baseURL: wire.server.baseURL });
    const reason = (request: GenerateRequest, e = engine): string => e.refusal(request)?.message ?? '';
    const calls: GenerateRequest = {
      messages: [{ role: 'user', content: 'Weather?' }, { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{}' }] }],
      continueFinalMessage: true,
    };
    const blank: GenerateRequest = { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: ' \n' }], continueFinalMessage: true };
    const notAsked = reason(ENDS_WITH_ASSISTANT);
    expect(notAsked).toMatch(/^messages\.1: Mistral refuses a conversation that ends with an assistant message unless it is sent as a prefix/);
    expect(notAsked).toContain('it is not asked to be continued (continueFinalMessage; continue_final_message: true on chat completions)');
    expect(reason(calls)).toContain('it has tool calls, which cannot be continued');
    expect(reason(blank)).toContain('it has no text to continue');
    const otherWay = wire.engine({ ...mistral, baseURL: wire.server.baseURL, options: { prefill: 'none' } });
    expect(reason({ ...ENDS_WITH_ASSISTANT, continueFinalMessage: true }, otherWay)).toContain('this deployment does not send one as a prefix (options.prefill)');
    // Advice a client that sent a prefill on /v1/messages has already followed is given to none.
    for (const text of [notAsked, reason(calls), reason(blank)]) expect(text).not.toContain('an assistant prefill on messages');
    expect(reason(calls)).not.toContain('continue_final_message');
  });

  it("the caller's own messages (providerOptions) are sent as they are: the server decides", async () => {
    const engine = wire.engine({ ...mistral, baseURL: wire.server.baseURL });
    const own = { ...ENDS_WITH_ASSISTANT, providerOptions: { mistral: { messages: [{ role: 'user', content: 'Hi' }] } } };
    expect(engine.refusal(own)).toBeUndefined();
    expect((await engine.generate(own)).text).toBe('Paris"}');
  });

  it('options.refusesFinalAssistant: false sends it (the server\'s 400 comes back unsupported naming the message); true refuses it on any server', async () => {
    const e = await rejection(wire.engine({ ...mistral, baseURL: wire.server.baseURL, options: { refusesFinalAssistant: false } }).generate(ENDS_WITH_ASSISTANT));
    // (openai-mistral-last-role.test.ts: the engine then refuses such requests before the call.)
    expect({ code: e.code, param: e.param, status: e.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
    expect(e.message).toContain('Expected last role User or Tool');
    const generic = wire.engine({ baseURL: wire.server.baseURL, options: { refusesFinalAssistant: true } });
    expect(generic.refusal(ENDS_WITH_ASSISTANT)).toMatchObject({ param: 'messages.1' });
    expect(wire.engine({ baseURL: wire.server.baseURL }).refusal(ENDS_WITH_ASSISTANT)).toBeUndefined();
  });
});

describe('router: a mistral deployment and a conversation ending with an assistant message', () => {
  const pair = usePrimaryAndBackup();
  const MISTRAL_PRIMARY = { preset: 'mistral', model: 'mistral-small-latest' };

  it('goes to the next deployment, which takes it; the mistral server gets nothing (generate and stream)', async () => {
    pair.primary.setScript({ mistralRoles: true });
    const { router } = pair.router({ fallbacks: { primary: ['backup'] } }, {}, MISTRAL_PRIMARY);
    const r = await router.generate(ENDS_WITH_ASSISTANT, { model: 'primary' });
    expect({ text: r.text, deployment: r.deployment }).toEqual({ text: 'from backup', deployment: 'backup' });
    const parts = await collect(router.stream(ENDS_WITH_ASSISTANT, { model: 'primary' }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(pair.primary.requests).toHaveLength(0);
    expect(pair.backup.requests).toHaveLength(2);
    await router.close();
  });

  it('with no deployment left: unsupported naming the message, not the server 400', async () => {
    pair.primary.setScript({ mistralRoles: true });
    const { router } = pair.router({}, {}, MISTRAL_PRIMARY);
    const e = await rejection(router.generate(ENDS_WITH_ASSISTANT, { model: 'primary' }));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    expect(pair.primary.requests).toHaveLength(0);
    // Asked to continue it, the mistral deployment takes it (prefix: true).
    const r = await router.generate({ ...ENDS_WITH_ASSISTANT, continueFinalMessage: true }, { model: 'primary' });
    expect(r.deployment).toBe('primary');
    await router.close();
  });
});
