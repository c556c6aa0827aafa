import type OpenAI from 'openai';
import { parseList } from 'structured-headers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// Review of cdaab3f: the new nested warnings' messages reach the client only through x-llmrr-warnings, an RFC 8941
// header of printable ASCII, where every other character becomes `?`. The messages of `image_url.detail` /
// `input_image.detail` and `stream_options.include_obfuscation` hold U+2019 (right single quotation mark), so the
// client reads "an image?s detail level; the provider?s default applies" and "the gateway?s streams".

let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('m', {}, { capabilities: ['chat', 'streaming', 'tools', 'json', 'vision', 'completion'] })] });
});
afterAll(() => gw?.close());

/** The `message` parameter of each member of `x-llmrr-warnings`, by its field. */
function messages(value: string | null): Record<string, string> {
  expect(value).not.toBeNull();
  const out: Record<string, string> = {};
  for (const [, params] of parseList(value!)) out[String(params.get('field'))] = String(params.get('message'));
  return out;
}

const IMAGE: OpenAI.ChatCompletionContentPart = { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } };

describe('nested warnings in x-llmrr-warnings', () => {
  it('image detail and include_obfuscation messages read as written in the header (no character turned into "?")', async () => {
    const { response, data } = await gw
      .openai()
      .chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Look' }, IMAGE] }],
        stream: true,
        stream_options: { include_obfuscation: true },
      })
      .withResponse();
    for await (const _ of data) {
      // drain
    }
    const said = messages(response.headers.get('x-llmrr-warnings'));
    const detail = said['messages.0.content.1.image_url.detail'];
    const obfuscation = said['stream_options.include_obfuscation'];
    expect(detail).toMatch(/^messages\.0\.content\.1\.image_url\.detail low was not sent/);
    expect(obfuscation).toMatch(/^stream_options\.include_obfuscation was not sent/);
    expect(detail).not.toContain('?');
    expect(obfuscation).not.toContain('?');
  });
});
