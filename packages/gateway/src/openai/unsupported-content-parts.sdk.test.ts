import { createOpenAI } from '@ai-sdk/openai';
import type { OpenAIWireServer } from '@llmrr/core/test';
import { APICallError, generateText } from 'ai';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedOverOpenAIWire, type SdkGateway } from '../test-support/served-gateway.js';

// OpenAI's `file` (a PDF, which the Vercel AI SDK's `openai.chat()` sends for a file part) and `input_audio` content
// parts on /v1/chat/completions are valid OpenAI requests the gateway does not serve (no Files API, text and images
// only): a 400 `unsupported` naming `messages.N.content.K.type`, as /v1/responses refuses its `input_file` and
// `input_audio` parts, not a malformed request. The output-side equivalent, an answer in audio (`modalities` with
// "audio", `audio`'s voice and format), is refused the same way, naming the field: no deployment answers in audio,
// and a text-only 200 is not what was asked. The upstream is never called.

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ upstream, gw } = await servedOverOpenAIWire());
});
afterAll(() => gw?.close());
afterEach(() => {
  expect(upstream.requests).toHaveLength(0);
  clearRequests(upstream);
});

const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

describe('file and audio content parts on chat completions', () => {
  it('AI SDK: a file part is a 400 unsupported naming the part, as on /v1/responses', async () => {
    const provider = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret });
    const messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Summarize.' }, { type: 'file' as const, data: pdf, mediaType: 'application/pdf', filename: 'a.pdf' }] }];
    const viaResponses = await generateText({ model: provider.responses('gpt'), messages, maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(viaResponses)).toBe(true);
    expect(JSON.parse((viaResponses as APICallError).responseBody!).error).toMatchObject({ code: 'unsupported', param: 'input.0.content.1.type' });

    const viaChat = await generateText({ model: provider.chat('gpt'), messages, maxRetries: 0 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(viaChat)).toBe(true);
    expect((viaChat as APICallError).statusCode).toBe(400);
    expect(JSON.parse((viaChat as APICallError).responseBody!).error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported', param: 'messages.0.content.1.type' });
  });

  const parts: Array<[string, OpenAI.ChatCompletionContentPart]> = [
    ['file (file_data)', { type: 'file', file: { filename: 'a.pdf', file_data: `data:application/pdf;base64,${pdf.toString('base64')}` } }],
    ['file (file_id)', { type: 'file', file: { file_id: 'file-abc123' } }],
    ['input_audio', { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }],
  ];
  it.each(parts)('official openai client: a %s part, streamed or not, is a 400 unsupported naming messages.1.content.2.type', async (_, part) => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'What is in it?' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }, part] },
    ];
    for (const stream of [false, true]) {
      const error = await gw.openai().chat.completions.create({ model: 'gpt', messages, stream }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported', param: 'messages.1.content.2.type', message: expect.stringContaining(part.type) });
    }
  });
});

describe('an audio answer on chat completions', () => {
  it.each([
    ['modalities ["text", "audio"] with audio', { modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } }, 'modalities'],
    ['modalities ["audio"]', { modalities: ['audio'] }, 'modalities'],
    ['audio alone', { audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
  ])('%s, streamed or not: a 400 unsupported naming %s', async (_, fields, param) => {
    for (const stream of [false, true]) {
      const error = await gw
        .openai()
        .chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'Say hi.' }], stream, ...fields } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported', param, message: expect.stringContaining('audio answer') });
    }
  });

  it('modalities ["text"] and audio null ask for a text answer: served', async () => {
    const res = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'Say hi.' }], modalities: ['text'], audio: null });
    expect(res.choices[0]!.message.content).toBeTruthy();
    clearRequests(upstream);
  });
});
