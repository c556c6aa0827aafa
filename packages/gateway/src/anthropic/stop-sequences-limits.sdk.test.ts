import { startGeminiWireServer, startOpenAIWireServer, type GeminiWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The official Anthropic client on /v1/messages with five stop sequences (the Messages API sets no small limit; agent
// frameworks send several: Qwen-Agent five, Continue nine), the deployment on another provider:
// - OpenAI's chat completions take at most 4 (`stop`: "Up to 4 sequences"): 400 "Invalid 'stop': array too long.
//   Expected an array with maximum length 4, but got an array with length 5 instead." (code array_above_max_length;
//   continuedev/continue#2461, QwenLM/Qwen-Agent#228);
// - Gemini's generationConfig.stopSequences take at most 5 ("up to 5"), so six are refused the same way.
// The engines send the first 4 (OpenAI) / 5 (Gemini) with a `setting_changed` warning (other OpenAI-compatible
// servers get them all). The local peers below apply those limits of the real APIs (their own checks do not have them).

let gw: SdkGateway;
let openai: OpenAIWireServer;
let gemini: GeminiWireServer;
beforeAll(async () => {
  openai = await startOpenAIWireServer({
    script: (r) => {
      const stop = (r.body as { stop?: unknown }).stop;
      if (Array.isArray(stop) && stop.length > 4) {
        return { error: { status: 400, type: 'invalid_request_error', param: 'stop', code: 'array_above_max_length', message: `Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length ${stop.length} instead.` } };
      }
      return { text: 'ok' };
    },
  });
  gemini = await startGeminiWireServer({
    apiKey: 'gk',
    handler: (r) => {
      const stops = (r.body as { generationConfig?: { stopSequences?: unknown[] } }).generationConfig?.stopSequences;
      if (Array.isArray(stops) && stops.length > 5) return { error: { status: 400, message: `* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences are allowed, got ${stops.length}\n` } };
      return { parts: 'ok' };
    },
  });
  gw = await servedGateway({
    models: [
      { name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: openai.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] },
      { name: 'gem', engine: 'gemini', baseURL: gemini.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'streaming', 'tools'] },
    ],
    upstreams: [openai, gemini],
  });
});
afterAll(() => gw?.close());

const STOPS = ['Observation:', '\nUser:', '</answer>', 'END', 'STOP', 'Human:'];

describe('/v1/messages stop_sequences beyond another provider\'s limit', () => {
  it('five stop sequences to an OpenAI deployment answer, not a 400', async () => {
    const { data: message, response } = await gw
      .anthropic()
      .messages.create({ model: 'gpt', max_tokens: 50, stop_sequences: STOPS.slice(0, 5), messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(openai.requests.at(-1)!.body).toMatchObject({ stop: STOPS.slice(0, 4) });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'stop_sequences']]);
  });

  it('six stop sequences to a Gemini deployment answer, not a 400', async () => {
    const { data: message, response } = await gw.anthropic().messages.create({ model: 'gem', max_tokens: 50, stop_sequences: STOPS, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(gemini.requests.at(-1)!.body!.generationConfig).toMatchObject({ stopSequences: STOPS.slice(0, 5) });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_changed', 'stop_sequences']]);
  });

  it('up to the limit: all sent, no warning', async () => {
    const { response } = await gw.anthropic().messages.create({ model: 'gem', max_tokens: 50, stop_sequences: STOPS.slice(0, 5), messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    expect(gemini.requests.at(-1)!.body!.generationConfig).toMatchObject({ stopSequences: STOPS.slice(0, 5) });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
