import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { usePrimaryAndBackup } from '../../test/wire-router.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// llama.cpp server continues a conversation's final assistant message by itself (`prefill_assistant`, on by default;
// or when asked, `continue_final_message`), and its request parsing refuses to continue one that carries tool calls:
// 400 "Cannot continue an assistant message that contains tool calls." (tools/server/server-common.cpp,
// `oaicompat_chat_params_parse`; ggml-org/llama.cpp#27588, #27626). The server here refuses as llama.cpp does
// (`llamacppContinuation`). A `llamacpp` deployment refuses such a request before the call (`unsupported` naming
// `messages.N`, nothing sent), so that a router hands it to a deployment that takes it; a prefill (text) still goes.

const wire = useOpenAIWireServer({ script: { llamacppContinuation: true, text: 'from llama.cpp' } });
const llamacpp: Partial<ModelConfigInput> = { preset: 'llamacpp', model: 'local' };
const ENDS_WITH_CALLS: GenerateRequest = {
  messages: [
    { role: 'user', content: 'Weather in Rome?' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Rome"}' }] },
  ],
  tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
};

describe('openai-compatible: a llamacpp deployment and a conversation ending with tool calls', () => {
  it('refused before the call, unsupported naming the message (generate and stream)', async () => {
    const engine = wire.engine({ ...llamacpp, baseURL: wire.server.baseURL });
    expect(engine.refusal(ENDS_WITH_CALLS)).toMatchObject({ param: 'messages.1' });
    const e = await rejection(engine.generate(ENDS_WITH_CALLS));
    const last = (await collect(engine.stream(ENDS_WITH_CALLS))).at(-1) as { type: string; error: LLMError };
    expect(last.type).toBe('error');
    for (const err of [e, last.error]) {
      expect(LLMError.isInstance(err) && { code: err.code, param: err.param, status: err.statusCode }).toEqual({ code: 'unsupported', param: 'messages.1', status: 400 });
      expect(err.message).toContain('llama.cpp server');
    }
    expect(wire.server.requests).toHaveLength(0);
  });

  it('a prefill (text), the tool results, or a user message last go through', async () => {
    const engine = wire.engine({ ...llamacpp, baseURL: wire.server.baseURL });
    const prefill: GenerateRequest = { messages: [{ role: 'user', content: 'Capital?' }, { role: 'assistant', content: '{"capital": "' }], continueFinalMessage: true };
    const answered: GenerateRequest = { ...ENDS_WITH_CALLS, messages: [...ENDS_WITH_CALLS.messages, { role: 'tool', toolCallId: 'c1', content: 'sunny' }] };
    for (const request of [prefill, answered, { messages: [{ role: 'user' as const, content: 'Hi' }] }]) {
      expect(engine.refusal(request)).toBeUndefined();
      expect((await engine.generate(request)).text).toBe('from llama.cpp');
    }
    expect(wire.server.requests).toHaveLength(3);
  });

  it("the caller's own messages (providerOptions) are sent as they are: the server decides", async () => {
    const engine = wire.engine({ ...llamacpp, baseURL: wire.server.baseURL });
    const own = { ...ENDS_WITH_CALLS, providerOptions: { llamacpp: { messages: [{ role: 'user', content: 'Hi' }] } } };
    expect(engine.refusal(own)).toBeUndefined();
    expect((await engine.generate(own)).text).toBe('from llama.cpp');
  });

  it('prefill continue_final_message (a server run with --no-prefill-assistant), or refusesFinalToolCalls: false, sends it', async () => {
    expect(wire.engine({ ...llamacpp, baseURL: wire.server.baseURL, options: { prefill: 'continue_final_message' } }).refusal(ENDS_WITH_CALLS)).toBeUndefined();
    const e = await rejection(wire.engine({ ...llamacpp, baseURL: wire.server.baseURL, options: { refusesFinalToolCalls: false } }).generate(ENDS_WITH_CALLS));
    expect(LLMError.isInstance(e) && { code: e.code, status: e.statusCode }).toEqual({ code: 'invalid_request', status: 400 });
    expect(e.message).toContain('Cannot continue an assistant message that contains tool calls.');
    // Another preset (vllm, a generic server) is not taken to refuse it; the option says so for one that does.
    expect(wire.engine({ preset: 'vllm', baseURL: wire.server.baseURL }).refusal(ENDS_WITH_CALLS)).toBeUndefined();
    expect(wire.engine({ baseURL: wire.server.baseURL, options: { refusesFinalToolCalls: true } }).refusal(ENDS_WITH_CALLS)).toMatchObject({ param: 'messages.1' });
  });
});

describe('router: a llamacpp deployment and a conversation ending with tool calls', () => {
  const pair = usePrimaryAndBackup();
  const LLAMACPP_PRIMARY = { preset: 'llamacpp', model: 'local' };

  it('goes to the next deployment, which answers it; the llama.cpp server gets nothing (generate and stream)', async () => {
    pair.primary.setScript({ llamacppContinuation: true });
    const { router } = pair.router({ fallbacks: { primary: ['backup'] } }, {}, LLAMACPP_PRIMARY);
    const r = await router.generate(ENDS_WITH_CALLS, { model: 'primary' });
    expect({ text: r.text, deployment: r.deployment }).toEqual({ text: 'from backup', deployment: 'backup' });
    const parts = await collect(router.stream(ENDS_WITH_CALLS, { model: 'primary' }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(pair.primary.requests).toHaveLength(0);
    expect(pair.backup.requests).toHaveLength(2);
    await router.close();
  });

  it('with no deployment left: unsupported naming the message, not the server 400', async () => {
    pair.primary.setScript({ llamacppContinuation: true });
    const { router } = pair.router({}, {}, LLAMACPP_PRIMARY);
    const e = await rejection(router.generate(ENDS_WITH_CALLS, { model: 'primary' }));
    expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
    expect(pair.primary.requests).toHaveLength(0);
    await router.close();
  });
});
