import { describe, expect, it } from 'vitest';
import { convertJsonSchemaToGeminiSchema, isEmptyObjectSchema } from './convert-json-schema-to-gemini-schema.js';

describe('convertJsonSchemaToGeminiSchema', () => {
  it('keeps the OpenAPI subset and drops what Gemini refuses', () => {
    expect(
      convertJsonSchemaToGeminiSchema(
        {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          additionalProperties: false,
          properties: {
            name: { type: 'string', description: 'Name', minLength: 1 },
            tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 3 },
            kind: { const: 'x' },
          },
          required: ['name'],
        },
        'p',
      ),
    ).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Name', minLength: 1 },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 3 },
        kind: { enum: ['x'] },
      },
      required: ['name'],
    });
  });

  it('turns null unions into nullable and oneOf into anyOf', () => {
    expect(convertJsonSchemaToGeminiSchema({ type: ['string', 'null'] }, 'p')).toEqual({ type: 'string', nullable: true });
    expect(convertJsonSchemaToGeminiSchema({ anyOf: [{ type: 'number' }, { type: 'null' }] }, 'p')).toEqual({ type: 'number', nullable: true });
    expect(convertJsonSchemaToGeminiSchema({ oneOf: [{ type: 'number' }, { type: 'string' }] }, 'p')).toEqual({ anyOf: [{ type: 'number' }, { type: 'string' }] });
  });

  it('inlines local $refs and refuses recursive ones, naming the field', () => {
    const schema = {
      type: 'object',
      properties: { home: { $ref: '#/$defs/Address' }, work: { $ref: '#/definitions/Address' } },
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } } } },
      definitions: { Address: { type: 'object', properties: { city: { type: 'string' } } } },
    };
    const out = convertJsonSchemaToGeminiSchema(schema, 'p');
    expect(out.properties).toEqual({
      home: { type: 'object', properties: { city: { type: 'string' } } },
      work: { type: 'object', properties: { city: { type: 'string' } } },
    });
    const recursive = { $ref: '#/$defs/Node', $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } } };
    expect(() => convertJsonSchemaToGeminiSchema(recursive, 'responseFormat.schema')).toThrow(
      expect.objectContaining({ code: 'unsupported', param: 'responseFormat.schema.properties.next' }),
    );
  });

  it('a $ref to a name no $defs entry has ("__proto__", "constructor") points nowhere, even one Object.prototype has', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const schema = { type: 'object', properties: { x: { $ref: `#/$defs/${name}` } }, $defs: { Address: { type: 'string' } } };
      expect(() => convertJsonSchemaToGeminiSchema(schema, 'tools.0.parameters')).toThrow(
        expect.objectContaining({ code: 'unsupported', param: 'tools.0.parameters.properties.x', message: expect.stringContaining('points nowhere') }),
      );
    }
  });

  it('keeps a property named "__proto__" as a property (not the prototype of the converted properties)', () => {
    const schema = JSON.parse('{"type":"object","properties":{"city":{"type":"string"},"__proto__":{"type":"string"}},"required":["city","__proto__"]}') as Record<string, unknown>;
    const out = convertJsonSchemaToGeminiSchema(schema, 'tools.0.parameters') as { properties: Record<string, unknown> };
    expect(Object.keys(out.properties)).toEqual(['city', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(out.properties, '__proto__')?.value).toEqual({ type: 'string' });
    expect(Object.getPrototypeOf(out.properties)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(out))).toEqual(JSON.parse('{"type":"object","properties":{"city":{"type":"string"},"__proto__":{"type":"string"}},"required":["city","__proto__"]}'));
  });

  it('knows an empty object schema', () => {
    expect(isEmptyObjectSchema({ type: 'object', properties: {} })).toBe(true);
    expect(isEmptyObjectSchema({})).toBe(true);
    expect(isEmptyObjectSchema({ type: 'object', properties: { a: { type: 'string' } } })).toBe(false);
  });
});
