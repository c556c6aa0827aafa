import type { AnthropicWireServer, OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// An assistant prefill on /v1/messages (the last message is the assistant's: Anthropic continues it), through the
// official Anthropic client, to deployments on local wire-format upstreams that record what they get. An Anthropic
// deployment continues it natively. An OpenAI-compatible one continues it only where its config or preset says how
// the server does: `options.prefill: "continue_final_message"` (vLLM, SGLang, TGI: `continue_final_message: true` with
// `add_generation_prompt: false`), `"prefix"` (`prefix: true` on the last message: the `mistral` preset's default, and
// DeepSeek's beta chat prefix completion) or `"native"` (a server that continues a final assistant message by itself:
// the `llamacpp` preset's default). Elsewhere the message is sent as it is, which such a server answers with a new
// turn, and the answer says so (`setting_not_sent` naming the client's message), never in silence, and is not cached.
// On chat completions a final assistant message asks for no continuation (OpenAI answers it with a new turn): it is
// sent as it is, without continuation fields or a warning.

let gw: SdkGateway;
let openaiUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;

beforeAll(async () => {
  ({ gw, upstreams: { openai: openaiUp, anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [
    wireDeployment(u, 'claude'),
    wireDeployment(u, 'gpt'),
    wireDeployment(u, 'gpt', { name: 'vllm', preset: 'vllm', model: 'qwen3-8b', options: { prefill: 'continue_final_message' } }),
    wireDeployment(u, 'gpt', { name: 'deepseek', preset: 'deepseek', model: 'deepseek-chat', options: { prefill: 'prefix' } }),
    wireDeployment(u, 'gpt', { name: 'llamacpp', preset: 'llamacpp', model: 'local', options: { prefill: 'native' } }),
    wireDeployment(u, 'gpt', { name: 'oai', preset: 'openai', model: 'gpt-4o' }),
    wireDeployment(u, 'gpt', { name: 'lcpp', preset: 'llamacpp', model: 'local' }),
    wireDeployment(u, 'gpt', { name: 'mis', preset: 'mistral', model: 'mistral-small-latest' }),
    // (A server of the mistral preset that takes another way: Mistral's own API refuses a final assistant message
    // without prefix, which the preset then refuses before the call: chat-final-assistant-refused.sdk.test.ts.)
    wireDeployment(u, 'gpt', { name: 'mis-off', preset: 'mistral', model: 'mistral-small-latest', options: { prefill: 'continue_final_message', refusesFinalAssistant: false } }),
  ]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openaiUp, claudeUp));

const lastOpenAIBody = () => openaiUp.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> } & Record<string, unknown>;

const PREFILLED = {
  max_tokens: 64,
  system: 'Answer in JSON.',
  messages: [
    { role: 'user' as const, content: 'The capital of France?' },
    { role: 'assistant' as const, content: '{"capital": "' },
  ],
};

describe('an assistant prefill on /v1/messages', () => {
  it('an Anthropic deployment gets it as the last message, and says nothing', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'claude', ...PREFILLED }).withResponse();
    const sent = claudeUp.requests.at(-1)!.body as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.at(-1)).toMatchObject({ role: 'assistant' });
    expect(JSON.stringify(sent.messages.at(-1))).toContain('{\\"capital\\": \\"');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('an OpenAI-compatible deployment not known to continue it: sent as it is, and the answer says it was not continued (JSON and streamed)', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'gpt', ...PREFILLED }).withResponse();
    const body = lastOpenAIBody();
    expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
    expect(body).not.toHaveProperty('continue_final_message');
    const header = response.headers.get('x-llmrr-warnings');
    // The client's messages.1 (core's messages.2, after the system prompt).
    expect(readWarnings(header)).toEqual([['setting_not_sent', 'messages.1']]);
    expect(header).toContain('messages.1 (an assistant prefill) was not continued');
    expect(header).toContain('options.prefill');

    const stream = await gw.anthropic().messages.create({ model: 'gpt', ...PREFILLED, stream: true }).withResponse();
    for await (const _ of stream.data) void _;
    expect(readWarnings(stream.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
  });

  it('prefill "continue_final_message" (vLLM): continue_final_message true, add_generation_prompt false, no warning', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'vllm', ...PREFILLED }).withResponse();
    const body = lastOpenAIBody();
    expect(body).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
    expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    // A request whose last message is the user's is sent as before.
    await gw.anthropic().messages.create({ model: 'vllm', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(lastOpenAIBody()).not.toHaveProperty('add_generation_prompt');
  });

  it('prefill "prefix" (DeepSeek beta): prefix true on the last message, no warning (JSON and streamed)', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'deepseek', ...PREFILLED }).withResponse();
    expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "', prefix: true });
    expect(lastOpenAIBody().messages.filter((m) => 'prefix' in m)).toHaveLength(1);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    const stream = await gw.anthropic().messages.create({ model: 'deepseek', ...PREFILLED, stream: true }).withResponse();
    for await (const _ of stream.data) void _;
    expect(lastOpenAIBody().messages.at(-1)).toMatchObject({ prefix: true });
    expect(stream.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('prefill "native": sent as it is, no warning', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'llamacpp', ...PREFILLED }).withResponse();
    expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a blank final assistant message asks nothing to be continued: no warning', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'gpt', ...PREFILLED, messages: [PREFILLED.messages[0]!, { role: 'assistant', content: '  \n ' }] }).withResponse();
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('preset defaults', () => {
  it('mistral: prefix true on the last message (Mistral refuses a final assistant message without it), no warning', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'mis', ...PREFILLED }).withResponse();
    expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "', prefix: true });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    // options.prefill overrides the preset's.
    await gw.anthropic().messages.create({ model: 'mis-off', ...PREFILLED });
    expect(lastOpenAIBody().messages.at(-1)).not.toHaveProperty('prefix');
    expect(lastOpenAIBody()).toMatchObject({ continue_final_message: true });
  });

  it('llamacpp: native (llama-server continues a final assistant message by default), sent as it is, no warning', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'lcpp', ...PREFILLED }).withResponse();
    expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('a final assistant message on chat completions (OpenAI: a new turn, no continuation asked)', () => {
  const CHAT = [
    { role: 'user' as const, content: 'Hi there' },
    { role: 'assistant' as const, content: 'Hello! How can I help?' },
  ];

  it('to an openai deployment, and one without a way to continue it: sent as it is, no warning', async () => {
    for (const model of ['oai', 'gpt']) {
      const { response } = await gw.openai().chat.completions.create({ model, messages: CHAT }).withResponse();
      expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: 'Hello! How can I help?' });
      expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    }
  });

  it('to deployments that would continue it: no continuation fields added', async () => {
    await gw.openai().chat.completions.create({ model: 'vllm', messages: CHAT });
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(lastOpenAIBody()).not.toHaveProperty('add_generation_prompt');
    await gw.openai().chat.completions.create({ model: 'deepseek', messages: CHAT });
    expect(lastOpenAIBody().messages.at(-1)).not.toHaveProperty('prefix');
  });

  it('to an Anthropic deployment: sent as the last message, which Anthropic continues (its own behaviour)', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'claude', messages: CHAT }).withResponse();
    const sent = claudeUp.requests.at(-1)!.body as { messages: Array<{ role: string }> };
    expect(sent.messages.at(-1)).toMatchObject({ role: 'assistant' });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('the exact cache and a prefill', () => {
  // A gateway of its own, with the exact cache on (the requests above repeat themselves on purpose).
  let cgw: SdkGateway;
  let up: OpenAIWireServer;
  beforeAll(async () => {
    ({ gw: cgw, upstreams: { openai: up } } = await servedOverWireUpstreams(
      (u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'gpt', { name: 'vllm', preset: 'vllm', model: 'qwen3-8b', options: { prefill: 'continue_final_message' } })],
      { cache: { exact: { enabled: true, ttlMs: 3_600_000 } } },
    ));
  });
  afterAll(() => cgw?.close());
  afterEach(() => clearRequests(up));

  const ask = (model: string, question: string, stream = false) =>
    cgw.anthropic().messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: question }, PREFILLED.messages[1]!], stream }).withResponse();
  const drain = async (r: Awaited<ReturnType<typeof ask>>) => {
    if (Symbol.asyncIterator in r.data) for await (const _ of r.data as AsyncIterable<unknown>) void _;
  };

  it('an answer that did not continue the prefill is not stored: the next call asks again and is warned again (JSON and streamed)', async () => {
    for (const stream of [false, true]) {
      const question = `The capital of France? (${stream ? 'streamed' : 'JSON'})`;
      const first = await ask('gpt', question, stream);
      await drain(first);
      expect(readWarnings(first.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
      const second = await ask('gpt', question, stream);
      await drain(second);
      expect(readWarnings(second.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
    }
    expect(up.requests).toHaveLength(4);
  });

  it('one that continued it is stored and served again (the same request, without an upstream call)', async () => {
    await ask('vllm', 'The capital of Spain?');
    const second = await ask('vllm', 'The capital of Spain?');
    expect(up.requests).toHaveLength(1);
    expect(second.response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
