/**
 * A Gemini answer that ends with `finishReason: "MALFORMED_FUNCTION_CALL"` (or `UNEXPECTED_TOOL_CALL`): the model
 * failed to make a tool call, so no client is told it finished normally (`finish_reason: "stop"`, `end_turn`,
 * `status: "completed"`). Alone it is a typed 502 the official clients throw, streamed or not; with a fallback the
 * router falls over to it. Official openai / Anthropic clients, a local Gemini-wire upstream.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';

let up: WireUpstreams;
let gw: SdkGateway;
beforeAll(async () => {
  const served = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gem'), { ...wireDeployment(u, 'gem'), name: 'gem-backed' }, wireDeployment(u, 'claude')], {
    routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { 'gem-backed': ['claude'] } },
  });
  up = served.upstreams;
  gw = served.gw;
});
afterAll(async () => gw?.close());

const TOOLS: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const ask = [{ role: 'user' as const, content: 'Weather in Oslo?' }];
const failed = (finishReason: string) => ({ parts: [], finishReason, finishMessage: "Malformed function call: print(default_api.get_weather(city='Oslo'))" });

/** What a client call threw, or undefined when it answered. */
async function thrown(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('Gemini failed tool call, no fallback: a 502 invalid_response, never a normal finish', () => {
  for (const finishReason of ['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL']) {
    it(`${finishReason}: chat completions, streamed and not`, async () => {
      up.gemini.enqueue(failed(finishReason));
      const e = await thrown(() => gw.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS }));
      expect(e).toBeInstanceOf(OpenAI.InternalServerError);
      expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((e as InstanceType<typeof OpenAI.APIError>).code).toBe('invalid_response');

      up.gemini.enqueue(failed(finishReason));
      const finishes: Array<string | null> = [];
      const streamed = await thrown(async () => {
        const stream = await gw.openai().chat.completions.create({ model: 'gem', messages: ask, tools: TOOLS, stream: true });
        for await (const chunk of stream) for (const c of chunk.choices) if (c.finish_reason) finishes.push(c.finish_reason);
      });
      expect(streamed).toBeInstanceOf(OpenAI.APIError);
      expect(finishes).toEqual([]);
    });
  }

  it('the Responses API: no completed response, streamed or not', async () => {
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }];
    const e = await thrown(() => gw.openai().responses.create({ model: 'gem', input: 'Weather in Oslo?', tools }));
    expect((e as InstanceType<typeof OpenAI.APIError>).status).toBe(502);

    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const types: string[] = [];
    const streamed = await thrown(async () => {
      const stream = await gw.openai().responses.create({ model: 'gem', input: 'Weather in Oslo?', tools, stream: true });
      for await (const event of stream) types.push(event.type);
    });
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect(types).not.toContain('response.completed');
  });

  it('Anthropic messages: no end_turn, streamed or not', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }];
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const e = await thrown(() => gw.anthropic().messages.create({ model: 'gem', max_tokens: 100, messages: ask, tools }));
    expect(e).toBeInstanceOf(Anthropic.APIError);
    expect((e as InstanceType<typeof Anthropic.APIError>).status).toBe(502);

    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const stops: Array<string | null> = [];
    const streamed = await thrown(async () => {
      const stream = await gw.anthropic().messages.create({ model: 'gem', max_tokens: 100, messages: ask, tools, stream: true });
      for await (const event of stream) if (event.type === 'message_delta') stops.push(event.delta.stop_reason);
    });
    expect(streamed).toBeInstanceOf(Anthropic.APIError);
    expect(stops).toEqual([]);
  });
});

describe('Gemini failed tool call with a fallback: the router falls over', () => {
  it('chat completions, streamed and not: the fallback answers', async () => {
    const before = up.gemini.requests.length;
    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const { data, response } = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask }).withResponse();
    expect(response.headers.get('x-llmrr-model')).toBe('claude');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.choices[0]!.message.content).toBeTruthy();

    up.gemini.enqueue(failed('MALFORMED_FUNCTION_CALL'));
    const { data: stream, response: streamedResponse } = await gw.openai().chat.completions.create({ model: 'gem-backed', messages: ask, stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(streamedResponse.headers.get('x-llmrr-model')).toBe('claude');
    expect(text).not.toBe('');
    expect(up.gemini.requests.length - before).toBe(2);
  });
});
