import type { AnthropicWireServer, OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// An assistant prefill on /v1/messages (the last message is the assistant's: Anthropic continues it), through the
// official Anthropic client, to deployments on local wire-format upstreams that record what they get. An Anthropic
// deployment continues it natively. An OpenAI-compatible one continues it only where its config says how the server
// does: `options.prefill: "continue_final_message"` (vLLM, llama.cpp server, TGI: `continue_final_message: true` with
// `add_generation_prompt: false`), `"prefix"` (DeepSeek's beta chat prefix completion: `prefix: true` on the last
// message) or `"native"` (a server that continues a final assistant message by itself). Elsewhere the message is sent
// as it is, which such a server answers with a new turn, and the answer says so (`setting_not_sent` naming the
// client's message), never in silence.

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

  it('on chat completions too: a final assistant message to a deployment not known to continue it is said', async () => {
    const { response } = await gw
      .openai()
      .chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'The capital of France?' }, { role: 'assistant', content: 'It is' }] })
      .withResponse();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
  });
});
