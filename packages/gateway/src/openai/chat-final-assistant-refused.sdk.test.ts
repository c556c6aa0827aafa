import { startGeminiWireServer, startOpenAIWireServer, type GeminiWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A conversation that ends with an assistant message, through the official clients, to deployments whose upstream
// refuses one: a Mistral-wire server that refuses it without `prefix: true` (400 "Expected last role User or Tool (or
// Assistant with prefix True)", as Mistral's API), and a Gemini-wire server whose gemini-3.6-flash and
// gemini-3.5-flash-lite refuse a trailing `model` turn (400 "Requests ending with a model turn are not supported.").
// Such a deployment is left out before any call: the request goes to its fallback, which takes it, and with none left
// the client gets a 400 naming its message (`param: "messages.1"`), not the upstream's words; the upstream gets
// nothing. Asked to continue it (`continue_final_message: true`), the mistral deployment sends `prefix: true`.

let gw: SdkGateway;
let mistralUp: OpenAIWireServer;
let openaiUp: OpenAIWireServer;
let geminiUp: GeminiWireServer;

beforeAll(async () => {
  [mistralUp, openaiUp, geminiUp] = await Promise.all([
    startOpenAIWireServer({ script: { mistralRoles: true, text: 'from mistral' } }),
    startOpenAIWireServer({ script: { text: 'a new turn' } }),
    startGeminiWireServer({ apiKey: 'gk', modelTurnRefused: (id) => id === 'gemini-3.6-flash' || id === 'gemini-3.5-flash-lite' }),
  ]);
  const mistral = { engine: 'openai-compatible', preset: 'mistral', model: 'mistral-small-latest', apiKey: 'k', baseURL: mistralUp.baseURL } as const;
  const gemini = { engine: 'gemini', apiKey: 'gk', baseURL: geminiUp.url } as const;
  gw = await servedGateway({
    models: [
      { name: 'mis', ...mistral },
      { name: 'mis-alone', ...mistral },
      { name: 'gpt', engine: 'openai-compatible', model: 'gpt-test', apiKey: 'k', baseURL: openaiUp.baseURL },
      { name: 'gem-new', ...gemini, model: 'gemini-3.6-flash' },
      { name: 'gem-lite', ...gemini, model: 'gemini-3.5-flash-lite' },
      { name: 'gem-old', ...gemini, model: 'gemini-2.5-flash' },
    ],
    routing: { fallbacks: { mis: ['gpt'], 'gem-new': ['gem-old'] } },
    upstreams: [mistralUp, openaiUp, geminiUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(mistralUp, openaiUp, geminiUp));

const MESSAGES = [
  { role: 'user' as const, content: 'The capital of France?' },
  { role: 'assistant' as const, content: '{"capital": "' },
];

function chat(model: string, extra: Record<string, unknown> = {}) {
  return gw
    .openai()
    .chat.completions.create({ model, messages: MESSAGES, ...extra } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
    .withResponse();
}

async function badRequest(pending: Promise<unknown>): Promise<{ param?: string | null; code?: string | null; message: string }> {
  const err = await pending.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  const e = err as InstanceType<typeof OpenAI.BadRequestError>;
  return { param: e.param, code: e.code, message: e.message };
}

describe('/v1/chat/completions: a conversation ending with an assistant message, to a mistral deployment', () => {
  it('alone: a 400 naming the message (JSON and streamed), nothing sent to Mistral', async () => {
    for (const stream of [false, true]) {
      const e = await badRequest(chat('mis-alone', stream ? { stream: true } : {}));
      expect({ param: e.param, code: e.code }).toEqual({ param: 'messages.1', code: 'unsupported' });
      expect(e.message).toContain('Mistral');
    }
    expect(mistralUp.requests).toHaveLength(0);
  });

  it('with a fallback: the fallback answers it, Mistral gets nothing', async () => {
    const r = await chat('mis');
    expect(r.data.choices[0]!.message.content).toBe('a new turn');
    expect(mistralUp.requests).toHaveLength(0);
    expect((openaiUp.requests.at(-1)!.body as { messages: unknown[] }).messages).toEqual(MESSAGES);
  });

  it('explained (x-llmrr-explain): the fallback selected, the mistral deployment excluded with the refusal', async () => {
    const { data, response } = await gw
      .openai()
      .chat.completions.create({ model: 'mis', messages: MESSAGES }, { headers: { 'x-llmrr-explain': 'true' } })
      .withResponse();
    // The header's summary names the fallback and why; the body's decision lists the refused deployment.
    const summary = JSON.parse(response.headers.get('x-llmrr-decision')!) as { selected: string; order: string[]; reason: string };
    expect({ selected: summary.selected, order: summary.order }).toEqual({ selected: 'gpt', order: ['gpt'] });
    expect(summary.reason).toContain('"mis"');
    // A shared deployment: the refusal (which an engine may have learned from another tenant's call) cut to its field.
    const refused = { name: 'mis', kind: 'unfit', code: 'unsupported', param: 'messages.1', reason: 'its engine refuses this request (messages.1)' };
    const info = (data as unknown as { llmrr: { deployment: string; decision: { selected: string; excluded: unknown[] } } }).llmrr;
    expect({ deployment: info.deployment, selected: info.decision.selected, excluded: info.decision.excluded }).toEqual({ deployment: 'gpt', selected: 'gpt', excluded: [refused] });
    expect(mistralUp.requests).toHaveLength(0);
  });

  it('continue_final_message: true: sent with prefix true, which Mistral takes', async () => {
    const r = await chat('mis-alone', { continue_final_message: true });
    expect(r.data.choices[0]!.message.content).toBe('from mistral');
    expect((mistralUp.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> }).messages.at(-1)).toMatchObject({ role: 'assistant', prefix: true });
  });
});

describe('the mistral refusal says why, in words true for the surface', () => {
  it('/v1/messages, a final tool_use turn (already a prefill to Anthropic): the tool calls, not advice to send a prefill', async () => {
    const err = await gw
      .anthropic()
      .messages.create({
        model: 'mis-alone',
        max_tokens: 64,
        tools: [{ name: 'weather', input_schema: { type: 'object' } }],
        messages: [
          { role: 'user', content: 'Weather in Rome?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} }] },
        ],
      })
      .then(() => undefined, (x: unknown) => x);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const { message, param } = ((err as InstanceType<typeof Anthropic.BadRequestError>).error as { error: { message: string; param?: string } }).error;
    expect(param).toBe('messages.1');
    expect(message).toContain('it has tool calls, which cannot be continued');
    expect(message).not.toContain('an assistant prefill on messages');
    expect(mistralUp.requests).toHaveLength(0);
  });

  it('/v1/chat/completions without continue_final_message: names it', async () => {
    const e = await badRequest(chat('mis-alone'));
    expect(e.message).toContain('it is not asked to be continued (continueFinalMessage; continue_final_message: true on chat completions)');
  });
});

describe('a conversation ending with an assistant message, to a Gemini model that refuses a trailing model turn', () => {
  it('alone: a 400 naming the message on /v1/chat/completions and /v1/messages, nothing sent to Gemini', async () => {
    const e = await badRequest(chat('gem-lite', { continue_final_message: true }));
    expect({ param: e.param, code: e.code }).toEqual({ param: 'messages.1', code: 'unsupported' });
    expect(e.message).toContain('gemini-3.5-flash-lite');
    const err = await gw
      .anthropic()
      .messages.create({ model: 'gem-lite', max_tokens: 64, messages: MESSAGES })
      .then(() => undefined, (x: unknown) => x);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(geminiUp.requests).toHaveLength(0);
  });

  it('with a fallback: an older Gemini model continues it', async () => {
    geminiUp.enqueue({ parts: 'Paris"}' });
    const r = await chat('gem-new', { continue_final_message: true });
    expect(r.data.choices[0]!.message.content).toBe('Paris"}');
    expect(geminiUp.requests.map((q) => q.model)).toEqual(['models/gemini-2.5-flash']);
  });
});
