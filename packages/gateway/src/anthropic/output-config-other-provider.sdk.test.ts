import type Anthropic from '@anthropic-ai/sdk';
import type { OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { startWireUpstreams } from '../test-support/wire-upstreams.js';

// The Anthropic-only fields of a /v1/messages body (`output_config.format`, structured outputs; an
// `output_config.effort` that did not become core's effort; `thinking.display: "omitted"`) go verbatim under
// providerOptions.anthropic. When another provider's deployment answers, the call (calls/model-call.ts) says each in
// a `setting_not_sent` warning (`ignoredFieldsOf` with the provider that answered): here an OpenAI-compatible
// deployment answers free text, and the client is told.

let openaiUp: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ openai: openaiUp } = await startWireUpstreams());
  gw = await servedGateway({
    models: [{ name: 'gpt4o', engine: 'openai-compatible', baseURL: openaiUp.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] }],
    upstreams: [openaiUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openaiUp));

const FORMAT = { type: 'json_schema', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const params = {
  model: 'gpt4o',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Where is the Eiffel tower?' }],
  output_config: { format: FORMAT },
} as unknown as Anthropic.MessageCreateParamsNonStreaming;

describe('/v1/messages output_config.format answered by an OpenAI-compatible deployment', () => {
  it('says output_config.format was not sent in x-llmrr-warnings (JSON and streamed answers)', async () => {
    const { response } = await gw.anthropic().messages.create(params).withResponse();
    // Not sent upstream in any form:
    const sent = openaiUp.requests[0]!.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('response_format');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'output_config.format']);
    const { response: streamed, data } = await gw
      .anthropic()
      .messages.create({ ...params, stream: true } as Anthropic.MessageCreateParamsStreaming)
      .withResponse();
    for await (const _ of data) {
      // drain
    }
    expect(readWarnings(streamed.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'output_config.format']);
  });
});
