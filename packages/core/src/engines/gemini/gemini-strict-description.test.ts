import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// A tool's `strict` (Gemini function declarations have no strict mode: warned) and a JSON schema format's
// `description` (the response schema's own description, which the model reads), against the local Gemini wire server.

const wire = useGeminiWireServer();
const both = (request: GenerateRequest) => generateAndStream(wire.engine(), request, wire.lastBody);
const hi: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const schemaOf = (body: Record<string, unknown>) => (body.generationConfig as { responseSchema?: Record<string, unknown> }).responseSchema;

describe('gemini engine: strict tools', () => {
  it('strict: true is not sent and warned by the tool\u2019s index; false and absent ask for nothing', async () => {
    const { generated, streamed, bodies } = await both({
      messages: hi,
      tools: [
        { name: 'a', parameters: SCHEMA },
        { name: 'b', parameters: SCHEMA, strict: true },
        { name: 'c', parameters: SCHEMA, strict: false },
      ],
    });
    expect(generated).toEqual([{ code: 'setting_not_sent', field: 'tools.1.strict', message: expect.stringContaining('no strict mode') }]);
    expect(streamed).toEqual(generated);
    for (const body of bodies) expect(JSON.stringify(body.tools)).not.toContain('strict');
  });
});

describe('gemini engine: responseFormat.description', () => {
  it('becomes the response schema\u2019s description', async () => {
    const { generated, bodies } = await both({ messages: hi, responseFormat: { type: 'json_schema', description: 'Where the user is', schema: SCHEMA } });
    expect(generated).toBeUndefined();
    for (const body of bodies) expect(schemaOf(body)).toMatchObject({ type: 'object', description: 'Where the user is' });
  });

  it('a schema with a description of its own keeps it, and the format\u2019s is warned', async () => {
    const { generated, streamed, bodies } = await both({
      messages: hi,
      responseFormat: { type: 'json_schema', description: 'Where the user is', schema: { ...SCHEMA, description: 'A place' } },
    });
    expect(generated).toEqual([{ code: 'setting_not_sent', field: 'responseFormat.description', message: expect.stringContaining('has another') }]);
    expect(streamed).toEqual(generated);
    for (const body of bodies) expect(schemaOf(body)?.description).toBe('A place');
  });

  it('without a description the schema goes as before', async () => {
    const { generated, bodies } = await both({ messages: hi, responseFormat: { type: 'json_schema', schema: SCHEMA } });
    expect(generated).toBeUndefined();
    for (const body of bodies) expect(schemaOf(body)).not.toHaveProperty('description');
  });
});
