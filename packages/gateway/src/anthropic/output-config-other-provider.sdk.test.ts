import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The Anthropic-only fields of a /v1/messages body (`output_config.format`, structured outputs; an
// `output_config.effort` that did not become core's effort; `thinking.display: "omitted"`) go verbatim under
// providerOptions.anthropic. When another provider's deployment answers, the call (calls/model-call.ts) says each in
// a `setting_not_sent` warning (`ignoredFieldsOf` with the provider that answered): here an OpenAI-compatible
// deployment answers free text, and the client is told.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt', { name: 'gpt4o', model: 'gpt-4o' })]);

const FORMAT = { type: 'json_schema', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const params = {
  model: 'gpt4o',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Where is the Eiffel tower?' }],
  output_config: { format: FORMAT },
} as unknown as Anthropic.MessageCreateParamsNonStreaming;

describe('/v1/messages output_config.format answered by an OpenAI-compatible deployment', () => {
  it('says output_config.format was not sent in x-llmrr-warnings (JSON and streamed answers)', async () => {
    const { response } = await wire.gw.anthropic().messages.create(params).withResponse();
    // Not sent upstream in any form:
    const sent = wire.upstreams.openai.requests[0]!.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('response_format');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'output_config.format']);
    const { response: streamed, data } = await wire.gw
      .anthropic()
      .messages.create({ ...params, stream: true } as Anthropic.MessageCreateParamsStreaming)
      .withResponse();
    for await (const _ of data) {
      // drain
    }
    expect(readWarnings(streamed.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'output_config.format']);
  });
});
