import type Anthropic from '@anthropic-ai/sdk';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The official Anthropic client on /v1/messages, the deployment OpenAI's gpt-5-mini (preset `openai`). OpenAI's GPT-5
// reasoning models refuse what a Messages request commonly carries:
// - a `temperature` other than 1: 400 "Unsupported value: 'temperature' does not support 0.5 with this model. Only
//   the default (1) value is supported." (code unsupported_value; tmc/langchaingo#1355, chatboxai/chatbox#2564);
// - `stop`: 400 "Unsupported parameter: 'stop' is not supported with this model." (code unsupported_parameter;
//   huggingface/smolagents#1671, BerriAI/litellm#15244 drops it for GPT-5).
// The engine keeps them back (openai-sampling-limits.ts `openAIReasoningSamplingRefusal`, as it does the penalties,
// logprobs, verbosity and parallel_tool_calls) with a `setting_not_sent` warning; gpt-5.1 and later take temperature
// again at reasoning_effort none. The local OpenAI-wire peer below applies those two rules of the real API (its own
// checks do not have them).

let gw: SdkGateway;
let openai: OpenAIWireServer;
beforeAll(async () => {
  openai = await startOpenAIWireServer({
    script: (r) => {
      const body = r.body as { temperature?: number; stop?: unknown; reasoning_effort?: string };
      // gpt-5.1 and later take other temperatures at reasoning_effort none (OpenAI's GPT-5.1/5.2 guide).
      if (body.temperature !== undefined && body.temperature !== 1 && body.reasoning_effort !== 'none') {
        return { error: { status: 400, type: 'invalid_request_error', param: 'temperature', code: 'unsupported_value', message: `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.` } };
      }
      if (body.stop !== undefined) {
        return { error: { status: 400, type: 'invalid_request_error', param: 'stop', code: 'unsupported_parameter', message: "Unsupported parameter: 'stop' is not supported with this model." } };
      }
      return { text: 'ok' };
    },
  });
  gw = await servedGateway({
    models: [
      { name: 'gpt5', engine: 'openai-compatible', preset: 'openai', baseURL: openai.baseURL, model: 'gpt-5-mini', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] },
      { name: 'gpt52', engine: 'openai-compatible', preset: 'openai', baseURL: openai.baseURL, model: 'gpt-5.2', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] },
    ],
    upstreams: [openai],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openai));

describe('/v1/messages -> an OpenAI GPT-5 reasoning deployment', () => {
  it('temperature 0.5 answers (not sent, with a warning), not a 400', async () => {
    // @anthropic-ai/sdk 1.14 no longer lists the sampling fields; older clients, LiteLLM and Claude Code send them.
    const params = { model: 'gpt5', max_tokens: 200, temperature: 0.5, messages: [{ role: 'user', content: 'Hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const { data: message, response } = await gw.anthropic().messages.create(params).withResponse();
    expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(openai.requests[0]!.body).not.toHaveProperty('temperature');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'temperature']]);
  });

  it('stop_sequences answer (not sent, with a warning), not a 400', async () => {
    const { data: message, response } = await gw
      .anthropic()
      .messages.create({ model: 'gpt5', max_tokens: 200, stop_sequences: ['END'], messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(openai.requests[0]!.body).not.toHaveProperty('stop');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'stop_sequences']]);
  });

  it('temperature 1 (the default the models take) is sent as it is, no warning', async () => {
    const params = { model: 'gpt5', max_tokens: 200, temperature: 1, messages: [{ role: 'user', content: 'Hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const { response } = await gw.anthropic().messages.create(params).withResponse();
    expect(openai.requests[0]!.body).toMatchObject({ temperature: 1 });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('gpt-5.2 with thinking disabled (reasoning_effort none) is sent temperature; thinking on, it is not', async () => {
    const params = { model: 'gpt52', max_tokens: 200, temperature: 0.5, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    await gw.anthropic().messages.create(params);
    expect(openai.requests[0]!.body).toMatchObject({ temperature: 0.5, reasoning_effort: 'none' });
    // At another effort the peer refuses any temperature but 1, as the real API does: this one must not carry it.
    const thinking = { ...params, max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 } } as unknown as Anthropic.MessageCreateParamsNonStreaming;
    const { response } = await gw.anthropic().messages.create(thinking).withResponse();
    expect(openai.requests[1]!.body).toMatchObject({ reasoning_effort: 'medium' });
    expect(openai.requests[1]!.body).not.toHaveProperty('temperature');
    // (beside the budget sent as an effort: chat completions take no budget)
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'temperature']);
  });
});
