import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/messages.js';
import { convertToAnthropicRequest } from './convert-to-anthropic-request.js';

const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const request: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'weather', parameters: SCHEMA, strict: true }] };

describe('strict tool use warnings', () => {
  it('a Vertex AI Claude Sonnet 4.5 id is not told that Sonnet 4.5 takes strict tool use', () => {
    // anthropicModelTakesStrictTools('claude-sonnet-4-5@20250929') is false (Vertex lists 4.5 as "coming soon"), but the
    // warning reads "claude-sonnet-4-5@20250929 is not known to take strict tool use (Claude Haiku 4.5, Sonnet 4.5,
    // Opus 4.5 and later do; ...)": the reason names the very model as one that takes it.
    const converted = convertToAnthropicRequest(request, { modelId: 'claude-sonnet-4-5@20250929', defaultMaxTokens: 1024, jsonToolName: 'json', provider: 'anthropic' });
    expect(converted.body.tools?.[0]).not.toHaveProperty('strict');
    const warning = converted.warnings?.find((w) => w.field === 'tools.0.strict');
    expect(warning?.code).toBe('setting_not_sent');
    expect(warning?.message).not.toMatch(/Sonnet 4\.5, Opus 4\.5 and later do/);
  });
});
