import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// Review of cdaab3f: `stream_options.include_obfuscation: true` is now a setting_not_sent warning on chat completions
// and /v1/responses, but legacy /v1/completions takes the same `stream_options` (openai 6.49
// `CompletionCreateParams.stream_options: ChatCompletionStreamOptions`, which has `include_obfuscation`), accepts
// it (looseObject) and drops it in silence: its chunks carry no obfuscation either.

let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('m')] });
});
afterAll(() => gw?.close());

describe('/v1/completions stream_options.include_obfuscation', () => {
  it('include_obfuscation: true is said in a setting_not_sent warning, as on chat completions', async () => {
    const params = { model: 'm', prompt: 'Hello', stream: true, stream_options: { include_usage: true, include_obfuscation: true } } as OpenAI.CompletionCreateParamsStreaming;
    const { response, data } = await gw.openai().completions.create(params).withResponse();
    for await (const _ of data) {
      // drain
    }
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'stream_options.include_obfuscation']);
  });
});
