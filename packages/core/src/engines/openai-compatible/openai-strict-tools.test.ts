import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest, ToolDefinition } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// A tool's `strict` and a JSON schema format's `description` reach the server as OpenAI's chat completions take
// them (`tools[].function.strict`, `response_format.json_schema.description`), against the local OpenAI wire
// server, which refuses a strict schema OpenAI's strict mode cannot enforce with OpenAI's message.

const wire = useOpenAIWireServer();
const ask = (extra: Partial<GenerateRequest>): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });
const STRICT_SCHEMA = { type: 'object', properties: { city: { type: 'string' }, unit: { type: ['string', 'null'] } }, required: ['city', 'unit'], additionalProperties: false };
const LOOSE_SCHEMA = { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] };
const tool = (extra: Partial<ToolDefinition> = {}): ToolDefinition => ({ name: 'weather', description: 'The weather in a city', parameters: STRICT_SCHEMA, ...extra });

async function refusalOf(request: GenerateRequest): Promise<LLMError> {
  const error = await wire.engine().generate(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(LLMError.isInstance(error)).toBe(true);
  return error as LLMError;
}

describe('openai-compatible engine: strict tools', () => {
  it('sends strict: true and strict: false as given, each tool its own', async () => {
    wire.server.setScript({ text: 'ok' });
    const result = await wire.engine().generate(ask({ tools: [tool({ strict: true }), tool({ name: 'other', strict: false, parameters: LOOSE_SCHEMA })] }));
    expect(result.text).toBe('ok');
    expect(result).not.toHaveProperty('warnings');
    const tools = wire.lastBody().tools as Array<{ function: Record<string, unknown> }>;
    expect(tools[0]!.function).toEqual({ name: 'weather', description: 'The weather in a city', parameters: STRICT_SCHEMA, strict: true });
    expect(tools[1]!.function).toEqual({ name: 'other', description: 'The weather in a city', parameters: LOOSE_SCHEMA, strict: false });
  });

  it('a tool without strict goes without the field (the body as before)', async () => {
    wire.server.setScript({ text: 'ok' });
    await wire.engine().generate(ask({ tools: [tool()] }));
    const fn = (wire.lastBody().tools as Array<{ function: Record<string, unknown> }>)[0]!.function;
    expect(Object.keys(fn)).toEqual(['name', 'description', 'parameters']);
  });

  it('streamed too', async () => {
    wire.server.setScript({ text: 'ok' });
    const parts = await collect(wire.engine().stream(ask({ tools: [tool({ strict: true })] })));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect((wire.lastBody().tools as Array<{ function: { strict?: boolean } }>)[0]!.function.strict).toBe(true);
  });

  it('a strict tool whose schema allows other properties is refused as OpenAI refuses it', async () => {
    const error = await refusalOf(ask({ tools: [tool(), tool({ name: 'loose', strict: true, parameters: { ...STRICT_SCHEMA, additionalProperties: undefined } })] }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("Invalid schema for function 'loose': In context=(), 'additionalProperties' is required to be supplied and to be false.");
  });

  it('a strict tool with an optional property is refused, naming it; a nested object is checked too', async () => {
    const missing = await refusalOf(ask({ tools: [tool({ strict: true, parameters: { ...LOOSE_SCHEMA, additionalProperties: false } })] }));
    expect(missing.message).toContain("'required' is required to be supplied and to be an array including every key in properties. Missing 'unit'.");
    const nested = {
      type: 'object',
      properties: { where: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      required: ['where'],
      additionalProperties: false,
    };
    const deep = await refusalOf(ask({ tools: [tool({ strict: true, parameters: nested })] }));
    expect(deep.message).toContain("In context=('properties', 'where'), 'additionalProperties' is required to be supplied and to be false.");
  });

  it('the same loose schema without strict is taken', async () => {
    wire.server.setScript({ text: 'ok' });
    expect((await wire.engine().generate(ask({ tools: [tool({ parameters: LOOSE_SCHEMA })] }))).text).toBe('ok');
  });
});

describe('openai-compatible engine: json_schema description', () => {
  it('sends the description beside the name and schema', async () => {
    wire.server.setScript({ text: '{"city":"Oslo","unit":null}' });
    await wire.engine().generate(ask({ responseFormat: { type: 'json_schema', name: 'place', description: 'Where the user is', schema: STRICT_SCHEMA, strict: true } }));
    expect(wire.lastBody().response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'place', description: 'Where the user is', schema: STRICT_SCHEMA, strict: true },
    });
  });

  it('without a description the format goes as before', async () => {
    wire.server.setScript({ text: '{}' });
    await wire.engine().generate(ask({ responseFormat: { type: 'json_schema', name: 'place', schema: STRICT_SCHEMA } }));
    expect(wire.lastBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'place', schema: STRICT_SCHEMA } });
  });

  it('a strict format whose schema strict mode cannot enforce is refused as OpenAI refuses it', async () => {
    const error = await refusalOf(ask({ responseFormat: { type: 'json_schema', name: 'place', schema: LOOSE_SCHEMA, strict: true } }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toContain("Invalid schema for response_format 'place': In context=(), 'additionalProperties' is required to be supplied and to be false.");
  });
});
