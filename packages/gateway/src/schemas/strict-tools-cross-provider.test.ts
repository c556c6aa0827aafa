import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// `/v1/messages` `tools[].strict` is passed on to OpenAI-compatible deployments as `function.strict`. Anthropic's
// strict tool use takes optional properties (a property left out of `required`; "up to 24 optional parameters" across
// the strict tools of a request), OpenAI's strict mode refuses them ("'required' is required to be supplied and to be
// an array including every key in properties"): the engine sends such a tool without strict, with a warning, instead
// of meeting OpenAI's 400.

const JSON_TOO: Array<'chat' | 'streaming' | 'tools' | 'json'> = ['chat', 'streaming', 'tools', 'json'];
const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt', { capabilities: JSON_TOO, options: { strictTools: true } })]);

// Valid for Anthropic strict tool use: every object closed, `unit` optional.
const ANTHROPIC_STRICT_SCHEMA = { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'], additionalProperties: false };

describe('/v1/messages strict tools on another provider', () => {
  it('a strict tool valid for Anthropic strict tool use (an optional property) is still answered by an OpenAI deployment, not its 400', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'weather', description: 'The weather in a city', input_schema: ANTHROPIC_STRICT_SCHEMA as Anthropic.Tool.InputSchema, strict: true }];
    const { data: message, response } = await wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools }).withResponse();
    expect(message.type).toBe('message');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'tools.0.strict']]);
    const sent = wire.upstreams.openai.requests.at(-1)!.body as { tools: Array<{ function: Record<string, unknown> }> };
    expect(sent.tools[0]!.function).not.toHaveProperty('strict');
  });

  it('tools[].strict null is taken as absent', async () => {
    const tools = [{ name: 'weather', input_schema: ANTHROPIC_STRICT_SCHEMA, strict: null }] as unknown as Anthropic.Tool[];
    const message = await wire.gw.anthropic().messages.create({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: 'Weather in Oslo?' }], tools });
    expect(message.type).toBe('message');
    const sent = wire.upstreams.openai.requests.at(-1)!.body as { tools: Array<{ function: Record<string, unknown> }> };
    expect(sent.tools[0]!.function).not.toHaveProperty('strict');
  });
});
