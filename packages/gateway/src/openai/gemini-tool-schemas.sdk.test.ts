import { startGeminiWireServer, type GeminiWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The official openai client on /v1/chat/completions, the deployment a Gemini upstream, with tool schemas as zod's
// toJSONSchema and MCP servers write them. Gemini's `parameters` and `responseSchema` (its OpenAPI Schema subset)
// refuse with a 400 what core's convertJsonSchemaToGeminiSchema therefore changes, each with a warning:
// - `format` on a string other than `enum` and `date-time` (`z.string().url()` -> "uri", `.email()` -> "email"):
//   "...format: only 'enum' and 'date-time' are supported for STRING type" (google-gemini/gemini-cli#3178; the Schema
//   reference). It goes into the description;
// - `enum` values that are not strings (`{ type: "integer", enum: [1, 2, 3] }`, a `const: 2`): "Invalid value at
//   '...enum[0]' (TYPE_STRING), 1" (microsoft/azure-devops-mcp#139). They go into the description; `null` in an enum
//   (OpenAI strict mode's nullable enum) becomes `nullable`;
// - a nested object schema with no properties (an MCP tool's free-form `{ "type": "object", "properties": {} }`
//   argument): "...properties: should be non-empty for OBJECT type" (LobeChat's error docs; browser-use#3786 for
//   responseSchema). It is left out (Gemini's schema cannot express it): as a property, as an array's `items` (the
//   array goes) and as an `anyOf` member; a tool whose every argument went is sent without `parameters`. Gemini's
//   Schema is a protobuf message, where `properties` absent and `{}` are the same map, so `{ type: "object" }` is the
//   same refused object.
// The local Gemini-wire peer below applies those rules of the real API (its own checks do not have them).

function walk(schema: unknown, at: string, out: string[]): void {
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Record<string, unknown>;
  if (s.type === 'string' && typeof s.format === 'string' && s.format !== 'enum' && s.format !== 'date-time') out.push(`${at}.format: only 'enum' and 'date-time' are supported for STRING type`);
  const props = s.properties;
  if (s.type === 'object' && (props === undefined || (typeof props === 'object' && props !== null && Object.keys(props).length === 0))) out.push(`${at}.properties: should be non-empty for OBJECT type`);
  if (Array.isArray(s.enum)) s.enum.forEach((v, i) => typeof v !== 'string' && out.push(`Invalid value at '${at}.enum[${i}]' (TYPE_STRING), ${JSON.stringify(v)}`));
  for (const [k, v] of Object.entries((s.properties as Record<string, unknown>) ?? {})) walk(v, `${at}.properties[${k}]`, out);
  if (s.items) walk(s.items, `${at}.items`, out);
  if (Array.isArray(s.anyOf)) s.anyOf.forEach((v, i) => walk(v, `${at}.anyOf[${i}]`, out));
}

function realApiProblem(body: Record<string, unknown>): string | undefined {
  const out: string[] = [];
  walk((body.generationConfig as { responseSchema?: unknown } | undefined)?.responseSchema, 'GenerateContentRequest.generation_config.response_schema', out);
  const tools = (body.tools ?? []) as Array<{ functionDeclarations?: Array<{ parameters?: unknown }> }>;
  tools.forEach((t, i) => t.functionDeclarations?.forEach((d, k) => walk(d.parameters, `GenerateContentRequest.tools[${i}].function_declarations[${k}].parameters`, out)));
  return out.length > 0 ? `* ${out.join('\n* ')}\n` : undefined;
}

let gw: SdkGateway;
let up: GeminiWireServer;
beforeAll(async () => {
  // The Gemini upstream of these tests: the real API's schema rules, then a plain answer.
  up = await startGeminiWireServer({
    apiKey: 'gk',
    handler: (r) => {
      const problem = realApiProblem(r.body as Record<string, unknown>);
      return problem ? { error: { status: 400, message: problem } } : { parts: 'ok' };
    },
  });
  gw = await servedGateway({ models: [{ name: 'gem', engine: 'gemini', baseURL: up.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities: ['chat', 'streaming', 'tools', 'json'] }], upstreams: [up] });
});
afterAll(() => gw?.close());

/** Asks with `tool`; the answer's text, the warnings' [code, field], and the tool's `parameters` Gemini got. */
async function ask(tool: OpenAI.ChatCompletionTool): Promise<{ content: string | null; warnings: Array<[string, unknown]>; sent: unknown }> {
  const { data, response } = await gw.openai().chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: 'Open it' }], tools: [tool] }).withResponse();
  const body = up.requests.at(-1)!.body as { tools: Array<{ functionDeclarations: Array<{ parameters?: unknown }> }> };
  return { content: data.choices[0]!.message.content, warnings: readWarnings(response.headers.get('x-llmrr-warnings')), sent: body.tools[0]!.functionDeclarations[0]!.parameters };
}

describe('openai client -> Gemini deployment: tool schemas zod and MCP servers write', () => {
  it('a free-form object argument ({ type: "object", properties: {} }) is left out, with a warning; it answers, not a 400', async () => {
    const res = await ask({ type: 'function', function: { name: 'run_query', parameters: { type: 'object', properties: { query: { type: 'string' }, variables: { type: 'object', properties: {} } }, required: ['query'] } } });
    expect(res.content).toBe('ok');
    expect(res.sent).toEqual({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] });
    expect(res.warnings).toContainEqual(['setting_changed', 'tools.0.function.parameters.properties.variables']);
  });

  it('a tool whose only argument is a free-form object is sent without parameters; it answers, not a 400', async () => {
    const res = await ask({ type: 'function', function: { name: 'set_headers', parameters: { type: 'object', properties: { headers: { type: 'object', properties: {} } } } } });
    expect(res.content).toBe('ok');
    expect(res.sent).toBeUndefined();
    expect(res.warnings).toContainEqual(['setting_changed', 'tools.0.function.parameters.properties.headers']);
  });

  it('an array of free-form objects (z.array(z.record(...))) is left out, with a warning; it answers, not a 400', async () => {
    const res = await ask({
      type: 'function',
      function: { name: 'insert_rows', parameters: { type: 'object', properties: { table: { type: 'string' }, rows: { type: 'array', items: { type: 'object' } } }, required: ['table', 'rows'] } },
    });
    expect(res.content).toBe('ok');
    expect(res.sent).toEqual({ type: 'object', properties: { table: { type: 'string' } }, required: ['table'] });
    expect(res.warnings).toContainEqual(['setting_changed', 'tools.0.function.parameters.properties.rows']);
  });

  it('a free-form object in a union leaves the union, with a warning; it answers, not a 400', async () => {
    const res = await ask({
      type: 'function',
      function: { name: 'set_body', parameters: { type: 'object', properties: { body: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }] } }, required: ['body'] } },
    });
    expect(res.content).toBe('ok');
    expect(res.sent).toEqual({ type: 'object', properties: { body: { type: 'string' } }, required: ['body'] });
    expect(res.warnings).toContainEqual(['setting_changed', 'tools.0.function.parameters.properties.body.anyOf.0']);
  });

  it('a string parameter with format "uri" (z.string().url()) has it in its description, with a warning; it answers, not a 400', async () => {
    const res = await ask({ type: 'function', function: { name: 'open_page', parameters: { type: 'object', properties: { url: { type: 'string', format: 'uri' } }, required: ['url'] } } });
    expect(res.content).toBe('ok');
    expect(res.sent).toMatchObject({ properties: { url: { type: 'string', description: '(format: uri)' } } });
    expect(res.warnings).toContainEqual(['setting_changed', 'tools.0.function.parameters.properties.url.format']);
  });

  it('an integer parameter with enum [1, 2, 3] has the values in its description, with a warning; it answers, not a 400', async () => {
    const res = await ask({ type: 'function', function: { name: 'set_level', parameters: { type: 'object', properties: { level: { type: 'integer', enum: [1, 2, 3] } }, required: ['level'] } } });
    expect(res.content).toBe('ok');
    expect(res.sent).toMatchObject({ properties: { level: { type: 'integer', description: '(one of: 1, 2, 3)' } } });
    expect(res.warnings).toContainEqual(['setting_changed', 'tools.0.function.parameters.properties.level.enum']);
  });

  it('a nullable enum as OpenAI\'s strict mode writes it (type ["string", "null"], enum [..., null]) goes as a nullable enum; it answers, not a 400', async () => {
    const res = await ask({
      type: 'function',
      function: { name: 'set_unit', strict: true, parameters: { type: 'object', properties: { unit: { type: ['string', 'null'], enum: ['celsius', 'fahrenheit', null] } }, required: ['unit'], additionalProperties: false } },
    });
    expect(res.content).toBe('ok');
    expect(res.sent).toMatchObject({ properties: { unit: { type: 'string', nullable: true, enum: ['celsius', 'fahrenheit'] } } });
  });

  it('response_format json_schema (responseSchema) gets the same changes: it answers, not a 400', async () => {
    const { data, response } = await gw
      .openai()
      .chat.completions.create({
        model: 'gem',
        messages: [{ role: 'user', content: 'Rate it' }],
        response_format: { type: 'json_schema', json_schema: { name: 'rating', schema: { type: 'object', properties: { stars: { type: 'integer', enum: [1, 2, 3] }, link: { type: 'string', format: 'uri' }, extra: { type: 'object', properties: {} } } } } },
      })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('ok');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([
      ['setting_changed', 'response_format.json_schema.schema.properties.stars.enum'],
      ['setting_changed', 'response_format.json_schema.schema.properties.link.format'],
      ['setting_changed', 'response_format.json_schema.schema.properties.extra'],
    ]);
  });
});

describe('openai client -> Gemini deployment: a free-form response format', () => {
  it('response_format json_schema of a free-form object is JSON mode without a schema, with a warning; it answers, not a 400', async () => {
    const { data, response } = await gw
      .openai()
      .chat.completions.create({
        model: 'gem',
        messages: [{ role: 'user', content: 'Any JSON' }],
        response_format: { type: 'json_schema', json_schema: { name: 'anything', schema: { type: 'object', additionalProperties: true } } },
      })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('ok');
    const config = (up.requests.at(-1)!.body as { generationConfig: Record<string, unknown> }).generationConfig;
    expect(config.responseMimeType).toBe('application/json');
    expect(config.responseSchema).toBeUndefined();
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_changed', 'response_format.json_schema.schema']);
  });
});
