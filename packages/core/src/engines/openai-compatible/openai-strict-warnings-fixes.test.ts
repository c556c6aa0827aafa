import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

const wire = useOpenAIWireServer();
const STRICT_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const ask: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'weather', parameters: STRICT_SCHEMA, strict: true }] };

describe('openai-compatible strict warnings', () => {
  it('a strict tool not sent because options.strictTools is false says so, not that OpenAI is not known to take strict', async () => {
    // The openai preset takes function.strict; the model's options turned it off. The warning today reads
    // "OpenAI is not known to take function.strict (set options.strictTools on the model to send it)": false about
    // OpenAI, and advice to set an option that is already set (to false). The Anthropic engine words this case apart
    // ("strict tool use is off for this deployment (options.strictTools)").
    wire.server.setScript({ text: 'ok' });
    const result = await wire.engine({ preset: 'openai', apiKey: 'k', options: { strictTools: false } }).generate(ask);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings![0]).toMatchObject({ code: 'setting_not_sent', field: 'tools.0.strict' });
    expect(result.warnings![0]!.message).not.toContain('is not known to take function.strict');
    expect(result.warnings![0]!.message).toContain('options.strictTools');
  });
});
