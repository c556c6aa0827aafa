import { describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { defaultEngineContext } from '../types.js';
import { anthropicModelTakesStrictTools } from './anthropic-strict-tools.js';
import { ANTHROPIC_TEST_KEY, useAnthropicWireServer } from './anthropic-wire.test-helpers.js';
import { createAnthropicEngine } from './create-anthropic-engine.js';

// Strict tool use where the platform serving Claude does not take it as the Claude API does.

const wire = useAnthropicWireServer();
const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const request: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'weather', parameters: SCHEMA, strict: true }] };

describe('strict tool use by platform', () => {
  it('Vertex AI ids of the Claude 4.5 models (not on Vertex AI structured-outputs list the engine cites) are not sent strict', () => {
    // https://docs.cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/structured_outputs lists
    // Opus 4.7, Sonnet 4.6 and Opus 4.6; Opus 4.5, Sonnet 4.5 and Haiku 4.5 are "(Coming soon)", and the feature is
    // off by default behind the organization policy constraints/vertexai.allowedPartnerModelFeatures.
    for (const id of ['claude-sonnet-4-5@20250929', 'claude-opus-4-5@20251101', 'claude-haiku-4-5@20251001']) {
      expect(anthropicModelTakesStrictTools(id), id).toBe(false);
    }
  });

  it('on a Microsoft Foundry base URL a strict tool goes with the structured-outputs beta header, or is not sent and warned', async () => {
    // "Structured outputs are generally available on the Claude API and Amazon Bedrock ... Structured outputs remain in
    // public beta on Microsoft Foundry" (platform.claude.com/docs/en/build-with-claude/structured-outputs): Foundry
    // needs `anthropic-beta: structured-outputs-2025-11-13`, which the engine never sends.
    const foundry = 'https://llmrr-review.services.ai.azure.com/anthropic';
    const engine = createAnthropicEngine(
      ModelConfigSchema.parse({ name: 'claude', engine: 'anthropic', model: 'claude-sonnet-4-5', baseURL: foundry, apiKey: ANTHROPIC_TEST_KEY }),
      defaultEngineContext({
        env: {},
        fetch: (input, init) => globalThis.fetch(String(input instanceof Request ? input.url : input).replace(foundry, wire.server.url), init),
      }),
    );
    wire.server.enqueue({ content: 'ok' });
    const result = await engine.generate(request);
    const sent = wire.server.requests.at(-1)!;
    expect((sent.body as { tools: Array<Record<string, unknown>> }).tools[0]!.strict).toBe(true);
    expect(sent.headers['anthropic-beta']).toBe('structured-outputs-2025-11-13');
    expect(result).not.toHaveProperty('warnings');
    // On the Claude API strict tool use is GA: no beta header.
    wire.server.enqueue({ content: 'ok' });
    await wire.engine({ model: 'claude-sonnet-4-5' }).generate(request);
    expect(wire.server.requests.at(-1)!.headers['anthropic-beta']).toBeUndefined();
  });

  it('the engine option strictTools forces strict tool use off or on', async () => {
    wire.server.enqueue({ content: 'ok' }, { content: 'ok' });
    const off = await wire.engine({ model: 'claude-sonnet-4-5', options: { strictTools: false } }).generate(request);
    expect(off.warnings).toEqual([{ code: 'setting_not_sent', field: 'tools.0.strict', message: expect.stringContaining('strict tool use is off for this deployment (options.strictTools)') }]);
    expect(wire.lastBody().tools).toEqual([expect.not.objectContaining({ strict: expect.anything() })]);
    const on = await wire.engine({ model: 'claude-sonnet-4-20250514', options: { strictTools: true } }).generate(request);
    expect(on).not.toHaveProperty('warnings');
    expect(wire.lastBody().tools).toEqual([expect.objectContaining({ strict: true })]);
  });
});
