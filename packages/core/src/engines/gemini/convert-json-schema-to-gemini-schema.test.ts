import { describe, expect, it } from 'vitest';
import type { CallWarning } from '../../spec/warnings.js';
import { convertJsonSchemaToGeminiSchema, isEmptyObjectSchema, isFreeFormGeminiSchema } from './convert-json-schema-to-gemini-schema.js';

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
        kind: { type: 'string', enum: ['x'] },
      },
      required: ['name'],
    });
  });

  describe('what Gemini refuses with a 400 (its Schema: enum values are strings, few formats, no object without properties)', () => {
    const convert = (schema: Record<string, unknown>) => {
      const warnings: CallWarning[] = [];
      return { out: convertJsonSchemaToGeminiSchema(schema, 'tools.0.parameters', 'gemini', warnings), fields: warnings.map((w) => [w.code, w.field]) };
    };

    it('a string format other than enum and date-time (z.string().url(), .email(), .uuid()) goes into the description', () => {
      const { out, fields } = convert({
        type: 'object',
        properties: { url: { type: 'string', format: 'uri', description: 'The page.' }, mail: { type: 'string', format: 'email' }, at: { type: 'string', format: 'date-time' }, n: { type: 'integer', format: 'int64' } },
      });
      expect(out.properties).toEqual({
        url: { type: 'string', description: 'The page. (format: uri)' },
        mail: { type: 'string', description: '(format: email)' },
        at: { type: 'string', format: 'date-time' },
        n: { type: 'integer', format: 'int64' },
      });
      expect(fields).toEqual([
        ['setting_changed', 'tools.0.parameters.properties.url.format'],
        ['setting_changed', 'tools.0.parameters.properties.mail.format'],
      ]);
    });

    it('an enum or const with values that are not strings goes into the description; null in an enum becomes nullable', () => {
      const { out, fields } = convert({
        type: 'object',
        properties: {
          level: { type: 'integer', enum: [1, 2, 3] },
          two: { const: 2 },
          unit: { type: ['string', 'null'], enum: ['celsius', 'fahrenheit', null] },
          maybe: { enum: [null] },
        },
      });
      expect(out.properties).toEqual({
        level: { type: 'integer', description: '(one of: 1, 2, 3)' },
        two: { type: 'integer', description: '(one of: 2)' },
        unit: { type: 'string', nullable: true, enum: ['celsius', 'fahrenheit'] },
        maybe: { nullable: true },
      });
      expect(fields).toEqual([
        ['setting_changed', 'tools.0.parameters.properties.level.enum'],
        ['setting_changed', 'tools.0.parameters.properties.two.enum'],
      ]);
    });

    it('a property that is an object with no properties is left out of properties and required, nested too', () => {
      const { out, fields } = convert({
        type: 'object',
        properties: {
          query: { type: 'string' },
          variables: { type: 'object', properties: {} },
          headers: { type: 'object', additionalProperties: { type: 'string' } },
          only: { type: 'object', properties: { free: { type: 'object' } } },
        },
        required: ['query', 'variables', 'only'],
      });
      expect(out).toEqual({ type: 'object', properties: { query: { type: 'string' } }, required: ['query'] });
      expect(fields).toEqual([
        ['setting_changed', 'tools.0.parameters.properties.variables'],
        ['setting_changed', 'tools.0.parameters.properties.headers'],
        ['setting_changed', 'tools.0.parameters.properties.only.properties.free'],
        ['setting_changed', 'tools.0.parameters.properties.only'],
      ]);
    });

    it('an array of free-form objects is left out; a free-form union member leaves the union, and a union of only those goes', () => {
      const { out, fields } = convert({
        type: 'object',
        properties: {
          rows: { type: 'array', items: { type: 'object' } },
          grid: { type: 'array', items: { type: 'array', items: { type: 'object', properties: {} } } },
          tags: { type: 'array', items: { type: 'string' } },
          body: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }, { type: 'integer' }] },
          free: { anyOf: [{ type: 'object' }, { type: 'null' }] },
        },
        required: ['rows', 'body', 'free'],
      });
      expect(out).toEqual({
        type: 'object',
        properties: { tags: { type: 'array', items: { type: 'string' } }, body: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
        required: ['body'],
      });
      expect(fields).toEqual([
        ['setting_changed', 'tools.0.parameters.properties.rows'],
        ['setting_changed', 'tools.0.parameters.properties.grid'],
        ['setting_changed', 'tools.0.parameters.properties.body.anyOf.0'],
        ['setting_changed', 'tools.0.parameters.properties.free'],
      ]);
      expect(isFreeFormGeminiSchema(convertJsonSchemaToGeminiSchema({ type: 'object', properties: { x: { type: 'object' } } }, 'p'))).toBe(true);
    });

    it('a union member left out is named as in the caller\'s schema: its keyword (anyOf / oneOf) and its index counting null members', () => {
      const { out, fields } = convert({
        type: 'object',
        properties: {
          a: { anyOf: [{ type: 'null' }, { type: 'string' }, { type: 'object' }] },
          b: { oneOf: [{ type: 'object', additionalProperties: true }, { type: 'integer', format: 'uint8' }] },
        },
      });
      expect(out.properties).toEqual({ a: { type: 'string', nullable: true }, b: { type: 'integer', description: '(format: uint8)' } });
      expect(fields).toEqual([
        ['setting_changed', 'tools.0.parameters.properties.a.anyOf.2'],
        ['setting_changed', 'tools.0.parameters.properties.b.oneOf.1.format'],
        ['setting_changed', 'tools.0.parameters.properties.b.oneOf.0'],
      ]);
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
