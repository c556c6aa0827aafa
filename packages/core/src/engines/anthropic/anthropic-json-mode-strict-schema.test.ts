import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../../test/anthropic-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { ANTHROPIC_TEST_KEY } from './anthropic-wire.test-helpers.js';
import { createAnthropicEngine } from './create-anthropic-engine.js';

// JSON mode with a strict format used to be answered on every Claude model (the forced tool went
// without `strict`, with a `responseFormat.strict` warning). Now the forced tool is strict on Claude 4.5+, and
// Anthropic's strict mode takes a narrower JSON Schema subset than OpenAI's (no minimum/maximum, minLength/maxLength,
// minItems above 1...): Anthropic answers such a schema with a 400 like
// "tools.0.custom: For 'integer' type, property 'minimum' is not supported" (reported verbatim in
// agentjido/req_llm#302, earendil-works/pi#9953, RooCodeInc/Roo-Code#10551). This server refuses a strict tool whose
// schema has `minimum` as Anthropic does, and answers anything else.

let server: AnthropicWireServer;
beforeAll(async () => {
  server = await startAnthropicWireServer({
    apiKey: ANTHROPIC_TEST_KEY,
    handler: (request) => {
      const tools = ((request.body as { tools?: Array<{ strict?: unknown; input_schema?: unknown }> }).tools ?? []);
      const k = tools.findIndex((t) => t.strict === true && JSON.stringify(t.input_schema).includes('"minimum"'));
      if (k >= 0) return { error: { status: 400, type: 'invalid_request_error', message: `tools.${k}.custom: For 'integer' type, property 'minimum' is not supported` } };
      return { content: [{ type: 'tool_use', name: 'json_answer', input: { count: 3 } }] };
    },
  });
});
afterAll(() => server?.close());

const engine = () =>
  createAnthropicEngine(
    ModelConfigSchema.parse({ name: 'claude', engine: 'anthropic', model: 'claude-sonnet-4-5-20250929', baseURL: server.url, apiKey: ANTHROPIC_TEST_KEY }),
    defaultEngineContext({ env: {} }),
  );

const request: GenerateRequest = {
  messages: [{ role: 'user', content: 'How many?' }],
  responseFormat: {
    type: 'json_schema',
    name: 'count',
    strict: true,
    schema: { type: 'object', properties: { count: { type: 'integer', minimum: 1 } }, required: ['count'], additionalProperties: false },
  },
};

describe('Anthropic JSON mode with a strict format', () => {
  it('a strict format whose schema Anthropic strict mode refuses is still answered on Claude 4.5 (as before), not a 400', async () => {
    const result = await engine().generate(request);
    expect(result.text).toBe('{"count":3}');
    expect(result.warnings).toEqual([
      { code: 'setting_not_sent', field: 'responseFormat.strict', message: expect.stringContaining('schema.properties.count uses minimum, which strict mode does not take') },
    ]);
    expect(server.requests.at(-1)!.body).toMatchObject({ tools: [expect.not.objectContaining({ strict: true })] });
  });

  it('a strict tool whose schema does not fit goes without strict, warned by its index; one that fits stays strict', async () => {
    const fits = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const result = await engine().generate({
      messages: [{ role: 'user', content: 'How many?' }],
      tools: [
        { name: 'ok', parameters: fits, strict: true },
        { name: 'count', parameters: { type: 'object', properties: { n: { type: 'integer', maximum: 9 } }, additionalProperties: false }, strict: true },
      ],
    });
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'tools.1.strict', message: expect.stringContaining('schema.properties.n uses maximum') }]);
    const tools = (server.requests.at(-1)!.body as { tools: Array<Record<string, unknown>> }).tools;
    expect(tools.map((t) => t.strict)).toEqual([true, undefined]);
  });

  it('strict tools past the per-request limit of optional properties go without strict', async () => {
    // 24 optional properties across the strict schemas of a request: the second schema would make 30.
    const optional = (n: number) => ({ type: 'object', properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string' }])), additionalProperties: false });
    const result = await engine().generate({
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        { name: 'a', parameters: optional(15), strict: true },
        { name: 'b', parameters: optional(15), strict: true },
      ],
    });
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'tools.1.strict', message: expect.stringContaining('at most 24 optional properties') }]);
    const tools = (server.requests.at(-1)!.body as { tools: Array<Record<string, unknown>> }).tools;
    expect(tools.map((t) => t.strict)).toEqual([true, undefined]);
  });
});

describe('Anthropic strict mode and a schema\'s root $schema (zodTextFormat, zod toJSONSchema add it)', () => {
  const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
  const schema = { $schema: DIALECT, type: 'object', properties: { count: { type: 'integer' } }, required: ['count'], additionalProperties: false };

  it('a strict format: the forced tool is strict, its schema sent without $schema, and nothing is warned', async () => {
    const result = await engine().generate({ messages: [{ role: 'user', content: 'How many?' }], responseFormat: { type: 'json_schema', name: 'count', strict: true, schema } });
    expect(result.warnings).toBeUndefined();
    const [tool] = (server.requests.at(-1)!.body as { tools: Array<{ strict?: boolean; input_schema: Record<string, unknown> }> }).tools;
    expect(tool!.strict).toBe(true);
    expect(tool!.input_schema).toEqual({ type: 'object', properties: { count: { type: 'integer' } }, required: ['count'], additionalProperties: false });
  });

  it('a strict tool: strict, without $schema; a tool that is not strict keeps its schema as given', async () => {
    const result = await engine().generate({
      messages: [{ role: 'user', content: 'How many?' }],
      tools: [
        { name: 'strict_one', parameters: schema, strict: true },
        { name: 'loose_one', parameters: schema },
      ],
    });
    expect(result.warnings).toBeUndefined();
    const tools = (server.requests.at(-1)!.body as { tools: Array<{ strict?: boolean; input_schema: Record<string, unknown> }> }).tools;
    expect(tools.map((t) => [t.strict, t.input_schema.$schema])).toEqual([
      [true, undefined],
      [undefined, DIALECT],
    ]);
  });
});
