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

const STRICT = { options: { strictTools: true } };
const toolsSent = () => (wire.lastBody().tools as Array<{ function: Record<string, unknown> }>).map((t) => t.function);

describe('openai-compatible engine: strict tools', () => {
  it('sends strict: true and strict: false as given, each tool its own, where the endpoint takes strict', async () => {
    wire.server.setScript({ text: 'ok' });
    const result = await wire.engine(STRICT).generate(ask({ tools: [tool({ strict: true }), tool({ name: 'other', strict: false, parameters: LOOSE_SCHEMA })] }));
    expect(result.text).toBe('ok');
    expect(result).not.toHaveProperty('warnings');
    expect(toolsSent()[0]).toEqual({ name: 'weather', description: 'The weather in a city', parameters: STRICT_SCHEMA, strict: true });
    expect(toolsSent()[1]).toEqual({ name: 'other', description: 'The weather in a city', parameters: LOOSE_SCHEMA, strict: false });
  });

  it('a tool without strict goes without the field (the body as before)', async () => {
    wire.server.setScript({ text: 'ok' });
    await wire.engine(STRICT).generate(ask({ tools: [tool()] }));
    expect(Object.keys(toolsSent()[0]!)).toEqual(['name', 'description', 'parameters']);
  });

  it('streamed too', async () => {
    wire.server.setScript({ text: 'ok' });
    const parts = await collect(wire.engine(STRICT).stream(ask({ tools: [tool({ strict: true })] })));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(toolsSent()[0]!.strict).toBe(true);
  });

  it('the openai, azure-openai and mistral presets take strict; others and a bare baseURL do not (not sent, warned)', async () => {
    for (const preset of ['openai', 'mistral'] as const) {
      wire.server.setScript({ text: 'ok' });
      const result = await wire.engine({ preset, apiKey: 'k' }).generate(ask({ tools: [tool({ strict: true })] }));
      expect(result, preset).not.toHaveProperty('warnings');
      expect(toolsSent()[0]!.strict, preset).toBe(true);
    }
    for (const config of [{ preset: 'vllm' as const }, {}]) {
      wire.server.setScript({ text: 'ok' });
      const result = await wire.engine(config).generate(ask({ tools: [tool(), tool({ strict: true }), tool({ strict: false })] }));
      expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'tools.1.strict', message: expect.stringContaining('is not known to take function.strict (set options.strictTools on the model to send it)') }]);
      expect(toolsSent().map((f) => Object.hasOwn(f, 'strict'))).toEqual([false, false, false]);
      const parts = await collect(wire.engine(config).stream(ask({ tools: [tool({ strict: true })] })));
      expect(parts[0]).toEqual({ type: 'warnings', warnings: [expect.objectContaining({ field: 'tools.0.strict' })] });
    }
    wire.server.setScript({ text: 'ok' });
    await wire.engine({ preset: 'openai', apiKey: 'k', options: { strictTools: false } }).generate(ask({ tools: [tool({ strict: true })] }));
    expect(Object.hasOwn(toolsSent()[0]!, 'strict')).toBe(false);
  });

  it("a strict tool whose schema OpenAI's strict mode refuses is sent without strict and warned, not refused", async () => {
    const nested = {
      type: 'object',
      properties: { where: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      required: ['where'],
      additionalProperties: false,
    };
    wire.server.setScript({ text: 'ok' });
    const result = await wire.engine(STRICT).generate(
      ask({
        tools: [
          tool({ strict: true }),
          tool({ name: 'loose', strict: true, parameters: { ...STRICT_SCHEMA, additionalProperties: undefined } }),
          tool({ name: 'optional', strict: true, parameters: { ...LOOSE_SCHEMA, additionalProperties: false } }),
          tool({ name: 'deep', strict: true, parameters: nested }),
        ],
      }),
    );
    expect(result.text).toBe('ok');
    expect(toolsSent().map((f) => f.strict)).toEqual([true, undefined, undefined, undefined]);
    expect(result.warnings).toEqual([
      { code: 'setting_not_sent', field: 'tools.1.strict', message: "tools.1.strict was not sent: schema is an object without additionalProperties: false (OpenAI's strict mode refuses it with a 400); the tool went without strict." },
      { code: 'setting_not_sent', field: 'tools.2.strict', message: expect.stringContaining('schema.properties.unit is optional') },
      { code: 'setting_not_sent', field: 'tools.3.strict', message: expect.stringContaining('schema.properties.where is an object without additionalProperties: false') },
    ]);
  });

  it('the wire server refuses such a schema as OpenAI does when it is sent strict anyway (providerOptions)', async () => {
    const loose = { type: 'function', function: { name: 'loose', parameters: LOOSE_SCHEMA, strict: true } };
    const error = await wire.engine(STRICT).generate(ask({ tools: [tool()], providerOptions: { openai: { tools: [loose] } } })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(LLMError.isInstance(error)).toBe(true);
    expect((error as LLMError).statusCode).toBe(400);
    expect((error as LLMError).message).toContain("Invalid schema for function 'loose': In context=(), 'additionalProperties' is required to be supplied and to be false.");
  });

  it('the same loose schema without strict is taken', async () => {
    wire.server.setScript({ text: 'ok' });
    expect((await wire.engine(STRICT).generate(ask({ tools: [tool({ parameters: LOOSE_SCHEMA })] }))).text).toBe('ok');
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

  it('a strict format whose schema strict mode cannot enforce is sent without strict and warned, not refused', async () => {
    wire.server.setScript({ text: '{"city":"Oslo"}' });
    const result = await wire.engine().generate(ask({ responseFormat: { type: 'json_schema', name: 'place', schema: LOOSE_SCHEMA, strict: true } }));
    expect(result.text).toBe('{"city":"Oslo"}');
    expect(wire.lastBody().response_format).toEqual({ type: 'json_schema', json_schema: { name: 'place', schema: LOOSE_SCHEMA } });
    expect(result.warnings).toEqual([
      { code: 'setting_not_sent', field: 'responseFormat.strict', message: "responseFormat.strict was not sent: schema is an object without additionalProperties: false (OpenAI's strict mode refuses it with a 400); the format went without strict." },
    ]);
  });
});
