import { startGeminiWireServer, type GeminiWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The official openai client on /v1/chat/completions with tools and a `response_format` together (an agent with a
// typed final answer: the OpenAI Agents SDK's `output_type` with tools sends both, and OpenAI takes it). Gemini 2.x
// refuses a function-calling request with `responseMimeType: "application/json"`: 400 INVALID_ARGUMENT "Function
// calling with a response mime type: 'application/json' is unsupported" (symfony/ai#1777 on gemini-2.5-flash,
// google/adk-python#5735 on gemini-2.5-pro); Gemini 3 takes both. core's convertToGeminiRequest leaves JSON mode out
// beside tools for the models before Gemini 3 (`geminiRefusesJsonWithTools`), with a warning.
// The local Gemini-wire peer below applies that rule of the real API to 2.x models (its own checks do not have it).

let gw: SdkGateway;
let up: GeminiWireServer;
beforeAll(async () => {
  up = await startGeminiWireServer({
    apiKey: 'gk',
    handler: (r) => {
      const body = r.body as { tools?: unknown[]; generationConfig?: { responseMimeType?: string } };
      if (/gemini-2/.test(r.model ?? '') && (body.tools?.length ?? 0) > 0 && body.generationConfig?.responseMimeType === 'application/json') {
        return { error: { status: 400, message: "Function calling with a response mime type: 'application/json' is unsupported" } };
      }
      return { parts: '{"city":"Oslo"}' };
    },
  });
  const capabilities = ['chat', 'streaming', 'tools', 'json'] as const;
  gw = await servedGateway({
    models: [
      { name: 'gem', engine: 'gemini', baseURL: up.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: [...capabilities] },
      { name: 'gem3', engine: 'gemini', baseURL: up.url, model: 'gemini-3-flash-preview', apiKey: 'gk', capabilities: [...capabilities] },
    ],
    upstreams: [up],
  });
});
afterAll(() => gw?.close());

function request(model: string): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model,
    messages: [{ role: 'user', content: 'Which city is the capital of Norway? Look it up if needed.' }],
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } } }],
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  };
}

describe('openai client -> Gemini deployment: tools and response_format together', () => {
  it('Gemini 2.5: the tools go, JSON mode not (a warning says so); it answers, not a 400', async () => {
    const { data, response } = await gw.openai().chat.completions.create(request('gem')).withResponse();
    expect(JSON.parse(data.choices[0]!.message.content!)).toEqual({ city: 'Oslo' });
    const body = up.requests.at(-1)!.body as { tools?: unknown[]; generationConfig?: Record<string, unknown> };
    expect(body.tools).toHaveLength(1);
    expect(body.generationConfig?.responseMimeType).toBeUndefined();
    expect(body.generationConfig?.responseSchema).toBeUndefined();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'response_format']]);
  });

  it('Gemini 3: both go, as asked', async () => {
    const { data, response } = await gw.openai().chat.completions.create(request('gem3')).withResponse();
    expect(JSON.parse(data.choices[0]!.message.content!)).toEqual({ city: 'Oslo' });
    const body = up.requests.at(-1)!.body as { tools?: unknown[]; generationConfig?: Record<string, unknown> };
    expect(body.tools).toHaveLength(1);
    expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseSchema: { type: 'object', properties: { city: { type: 'string' } } } });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
