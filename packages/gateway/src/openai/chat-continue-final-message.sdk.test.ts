import type { AnthropicWireServer, GeminiWireServer, OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// vLLM's chat-completions extra parameters `continue_final_message: true` with `add_generation_prompt: false` ask for
// the final assistant message to be continued (a prefill), as /v1/messages asks for every final assistant message.
// Through the official openai client (the fields in its body as vLLM clients send them), to deployments on local
// wire-format upstreams that record what they get: each deployment continues it as on /v1/messages (`options.prefill`
// or its preset's), one that cannot says so (`setting_not_sent` naming the client's message) and is not cached; a bad
// value or a request with nothing to continue is a 400 naming the field.

let gw: SdkGateway;
let openaiUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;
let geminiUp: GeminiWireServer;

beforeAll(async () => {
  ({ gw, upstreams: { openai: openaiUp, anthropic: claudeUp, gemini: geminiUp } } = await servedOverWireUpstreams((u) => [
    wireDeployment(u, 'claude'),
    wireDeployment(u, 'gpt'),
    wireDeployment(u, 'gem'),
    wireDeployment(u, 'gpt', { name: 'vllm', preset: 'vllm', model: 'qwen3-8b' }),
    wireDeployment(u, 'gpt', { name: 'mis', preset: 'mistral', model: 'mistral-small-latest' }),
  ]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openaiUp, claudeUp, geminiUp));

const lastOpenAIBody = () => openaiUp.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> } & Record<string, unknown>;

const MESSAGES = [
  { role: 'user' as const, content: 'The capital of France?' },
  { role: 'assistant' as const, content: '{"capital": "' },
];

/** A chat request with vLLM's extra body fields (the openai client sends unknown keys as they are). */
function continued(model: string, extra: Record<string, unknown> = { continue_final_message: true, add_generation_prompt: false }, stream = false) {
  const body = { model, messages: MESSAGES, ...extra, ...(stream ? { stream: true } : {}) } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
  return gw.openai().chat.completions.create(body).withResponse();
}

async function drain(r: Awaited<ReturnType<typeof continued>>): Promise<void> {
  if (Symbol.asyncIterator in r.data) for await (const _ of r.data as AsyncIterable<unknown>) void _;
}

describe('continue_final_message on /v1/chat/completions', () => {
  it('the vllm preset: continue_final_message true, add_generation_prompt false, no warning (JSON and streamed)', async () => {
    for (const stream of [false, true]) {
      const r = await continued('vllm', undefined, stream);
      await drain(r);
      expect(lastOpenAIBody()).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
      expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
      expect(r.response.headers.get('x-llmrr-warnings')).toBeNull();
    }
  });

  it('continue_final_message alone (add_generation_prompt absent or null) asks the same', async () => {
    for (const extra of [{ continue_final_message: true }, { continue_final_message: true, add_generation_prompt: null }]) {
      const r = await continued('vllm', extra);
      expect(lastOpenAIBody()).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
      expect(r.response.headers.get('x-llmrr-warnings')).toBeNull();
    }
  });

  it('the mistral preset: prefix true on the last message, no warning', async () => {
    const r = await continued('mis');
    expect(lastOpenAIBody().messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "', prefix: true });
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(r.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a deployment without a way: sent as it is, and the answer says it was not continued (JSON and streamed)', async () => {
    for (const stream of [false, true]) {
      const r = await continued('gpt', undefined, stream);
      await drain(r);
      expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
      expect(lastOpenAIBody()).not.toHaveProperty('add_generation_prompt');
      expect(readWarnings(r.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
    }
  });

  it('an Anthropic deployment continues it (its last message), no warning', async () => {
    const r = await continued('claude');
    const sent = claudeUp.requests.at(-1)!.body as { messages: Array<{ role: string }> };
    expect(sent.messages.at(-1)).toMatchObject({ role: 'assistant' });
    expect(r.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('false or null asks for nothing: sent as it is, without fields or a warning', async () => {
    for (const extra of [{ continue_final_message: false }, { continue_final_message: null }]) {
      const r = await continued('vllm', extra);
      expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
      expect(r.response.headers.get('x-llmrr-warnings')).toBeNull();
    }
  });

  it('add_generation_prompt false without it: sent as before, with a setting_not_sent warning naming add_generation_prompt', async () => {
    const r = await continued('vllm', { add_generation_prompt: false });
    expect(lastOpenAIBody()).not.toHaveProperty('continue_final_message');
    expect(lastOpenAIBody()).not.toHaveProperty('add_generation_prompt');
    expect(readWarnings(r.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'add_generation_prompt']]);
    // What happens: the answer as without it. Not "every deployment opens the assistant's turn": one that continues a
    // final assistant message by itself (Anthropic, Gemini, llama.cpp server, the local engines) continues it.
    const said = r.response.headers.get('x-llmrr-warnings')!;
    expect(said).not.toContain('every deployment');
    expect(said).toContain('continues it by itself');
    expect((await continued('vllm', { add_generation_prompt: true })).response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});

describe('a Gemini deployment and a final assistant message', () => {
  // Gemini continues a trailing `model` turn (gemini-2.5-flash: "The answer is" -> " 7, because..."), the answer the
  // continuation alone, so the engine sends the prefill as the last `model` content, with no warning, as the Anthropic
  // engine does. Gemini 3.6 Flash, 3.5 Flash-Lite and later releases refuse it (400 "Requests ending with a model turn
  // are not supported."): the engine refuses it for them before the call (chat-final-assistant-refused.sdk.test.ts);
  // a model it does not know to refuse it has its 400 passed on as the upstream's 400, not a 5xx.
  type GeminiBody = { contents: Array<{ role: string; parts: Array<{ text?: string }> }> };
  const lastGeminiContent = () => (geminiUp.requests.at(-1)!.body as GeminiBody).contents.at(-1);

  it('chat completions with continue_final_message, and /v1/messages: the prefill is the last model turn, no warning', async () => {
    geminiUp.enqueue({ parts: 'Paris"}' });
    const chat = await continued('gem');
    expect(chat.data.choices[0]!.message.content).toBe('Paris"}');
    expect(lastGeminiContent()).toEqual({ role: 'model', parts: [{ text: '{"capital": "' }] });
    expect(chat.response.headers.get('x-llmrr-warnings')).toBeNull();
    const messages = await gw.anthropic().messages.create({ model: 'gem', max_tokens: 64, messages: MESSAGES }).withResponse();
    expect(lastGeminiContent()).toEqual({ role: 'model', parts: [{ text: '{"capital": "' }] });
    expect(messages.response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a model that refuses a trailing model turn: its 400 reaches the client as a 400', async () => {
    geminiUp.enqueue({ error: { status: 400, message: 'Requests ending with a model turn are not supported.' } });
    const err = await continued('gem').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('model turn');
  });
});

describe('continue_final_message refused', () => {
  async function refused(body: Record<string, unknown>) {
    const err = await gw
      .openai()
      .chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    return (err as InstanceType<typeof OpenAI.BadRequestError>).error as { param?: string; message?: string };
  }

  it('a value that is not a boolean: a 400 naming the field, nothing sent', async () => {
    for (const value of ['true', 1, {}]) {
      expect(await refused({ model: 'vllm', messages: MESSAGES, continue_final_message: value })).toMatchObject({ param: 'continue_final_message' });
    }
    expect(await refused({ model: 'vllm', messages: MESSAGES, continue_final_message: true, add_generation_prompt: 'no' })).toMatchObject({ param: 'add_generation_prompt' });
    expect(openaiUp.requests).toHaveLength(0);
  });

  it('true when the last message is not an assistant\'s: a 400 naming continue_final_message', async () => {
    const e = await refused({ model: 'vllm', messages: [MESSAGES[0]], continue_final_message: true, add_generation_prompt: false });
    expect(e).toMatchObject({ param: 'continue_final_message' });
    expect(e.message).toContain('assistant');
    expect(openaiUp.requests).toHaveLength(0);
  });

  // Core's rule for what is a prefill (`prefillIndex`): an assistant turn with text and no tool calls. Anything else
  // at the end is no text to continue: the answer would be a new turn (warned nowhere, and cached).
  it('true when the last message is the assistant\'s but not text to continue (tool calls, a legacy function_call, blank): a 400 naming continue_final_message, nothing sent', async () => {
    const calls = [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }];
    const lasts = [
      { role: 'assistant', content: null, tool_calls: calls },
      { role: 'assistant', content: 'Let me look.', tool_calls: calls },
      { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{}' } },
      { role: 'assistant', content: ' \n\t' },
      { role: 'assistant', content: [{ type: 'text', text: ' ' }] },
    ];
    for (const model of ['vllm', 'gpt', 'claude']) {
      for (const last of lasts) {
        const e = await refused({ model, messages: [MESSAGES[0], last], continue_final_message: true });
        expect({ model, last, param: e.param }).toEqual({ model, last, param: 'continue_final_message' });
        expect(e.message).toContain('messages.1');
      }
    }
    expect(openaiUp.requests).toHaveLength(0);
    expect(claudeUp.requests).toHaveLength(0);
    // Without it each is a request like any other (a new turn asked, as OpenAI answers it).
    for (const last of lasts) {
      const body = { model: 'vllm', messages: [MESSAGES[0], last] } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
      expect((await gw.openai().chat.completions.create(body)).choices).toHaveLength(1);
    }
    expect(openaiUp.requests).toHaveLength(lasts.length);
  });

  it('true with add_generation_prompt true: a 400 naming add_generation_prompt, as vLLM refuses both', async () => {
    expect(await refused({ model: 'vllm', messages: MESSAGES, continue_final_message: true, add_generation_prompt: true })).toMatchObject({ param: 'add_generation_prompt' });
    expect(openaiUp.requests).toHaveLength(0);
  });
});

describe('the exact cache and continue_final_message', () => {
  let cgw: SdkGateway;
  let up: OpenAIWireServer;
  beforeAll(async () => {
    ({ gw: cgw, upstreams: { openai: up } } = await servedOverWireUpstreams(
      (u) => [
        wireDeployment(u, 'gpt'),
        wireDeployment(u, 'gpt', { name: 'vllm', preset: 'vllm', model: 'qwen3-8b' }),
        // A vLLM before 0.6.4 (none or a repeated prefill): the preset's way turned off.
        wireDeployment(u, 'gpt', { name: 'vllm-old', preset: 'vllm', model: 'qwen3-8b', options: { prefill: 'none' } }),
      ],
      { cache: { exact: { enabled: true, ttlMs: 3_600_000 } } },
    ));
  });
  afterAll(() => cgw?.close());
  afterEach(() => clearRequests(up));

  const ask = (model: string, question: string, extra: Record<string, unknown> = { continue_final_message: true }) =>
    cgw
      .openai()
      .chat.completions.create({ model, messages: [{ role: 'user', content: question }, MESSAGES[1]], ...extra } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();

  it('an answer that did not continue it is not stored; one that did is, apart from the same request without the field', async () => {
    await ask('gpt', 'The capital of Peru?');
    const again = await ask('gpt', 'The capital of Peru?');
    expect(readWarnings(again.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
    expect(up.requests).toHaveLength(2);
    await ask('vllm', 'The capital of Chile?');
    await ask('vllm', 'The capital of Chile?');
    expect(up.requests).toHaveLength(3);
    // Without the field the request asks for a new turn: another entry.
    await ask('vllm', 'The capital of Chile?', {});
    expect(up.requests).toHaveLength(4);
  });

  it('options.prefill "none" (an older vLLM): no continuation field sent, the answer warned and not stored', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await ask('vllm-old', 'The capital of Bolivia?');
      expect(readWarnings(r.response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'messages.1']]);
      expect(r.response.headers.get('x-llmrr-warnings')).toContain('options.prefill is \\"none\\"');
      const sent = up.requests.at(-1)!.body as Record<string, unknown>;
      expect(sent).not.toHaveProperty('continue_final_message');
      expect(sent).not.toHaveProperty('add_generation_prompt');
    }
    expect(up.requests).toHaveLength(2);
  });
});
