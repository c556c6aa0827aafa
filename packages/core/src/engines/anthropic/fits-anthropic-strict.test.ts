import { describe, expect, it } from 'vitest';
import { fitsAnthropicStrict } from './fits-anthropic-strict.js';

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false, ...extra });
const why = (schema: unknown) => {
  const fit = fitsAnthropicStrict(schema);
  return fit.fits ? undefined : fit.why;
};

describe('fitsAnthropicStrict', () => {
  it('takes the documented subset and counts optional properties and unions', () => {
    const schema = {
      ...obj({
        name: { type: 'string', description: 'who', format: 'email', pattern: '^[a-z]+@' },
        age: { type: ['integer', 'null'], default: null },
        kind: { enum: ['a', 'b', 1, true, null] },
        fixed: { const: 'x' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
        where: { $ref: '#/$defs/place' },
        either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
        both: { allOf: [obj({ a: { type: 'string' } })] },
      }),
      $defs: { place: obj({ city: { type: 'string' }, zip: { type: 'string' } }, { required: ['city'] }) },
      title: 'Person',
    };
    expect(fitsAnthropicStrict(schema)).toEqual({ fits: true, optional: 1, unions: 2 });
  });

  it('refuses what strict mode does not take, naming the place', () => {
    expect(why(obj({ n: { type: 'integer', minimum: 1 } }))).toBe('schema.properties.n uses minimum, which strict mode does not take');
    expect(why(obj({ s: { type: 'string', maxLength: 3 } }))).toContain('uses maxLength');
    expect(why(obj({ a: { type: 'array', items: { type: 'string' }, minItems: 2 } }))).toBe('schema.properties.a.minItems is neither 0 nor 1');
    expect(why(obj({ a: { type: 'array', items: { type: 'string' }, maxItems: 2 } }))).toContain('uses maxItems');
    expect(why(obj({ o: { oneOf: [{ type: 'string' }] } }))).toContain('uses oneOf');
    expect(why({ ...obj({}), $schema: 'https://json-schema.org/draft/2020-12/schema' })).toContain('uses $schema');
    expect(why(obj({ s: { type: 'string', format: 'regex' } }))).toContain('format "regex"');
    expect(why(obj({ s: { type: 'string', pattern: '(?=a)b' } }))).toContain('pattern');
    expect(why(obj({ s: { type: 'string', pattern: '\\bword' } }))).toContain('pattern');
    expect(why(obj({ e: { enum: [{ a: 1 }] } }))).toContain('enum');
    expect(why(obj({ t: { type: 'date' } }))).toBe('schema.properties.t.type is not a JSON type');
  });

  it('needs additionalProperties: false on every object, nested ones too', () => {
    expect(why({ type: 'object', properties: {} })).toBe('schema is an object without additionalProperties: false');
    expect(why(obj({ inner: { type: 'object', properties: { a: { type: 'string' } } } }))).toBe('schema.properties.inner is an object without additionalProperties: false');
    expect(why(obj({ inner: { type: 'object', additionalProperties: { type: 'string' } } }))).toBe('schema.properties.inner.additionalProperties is not false');
    expect(why(obj({ list: { type: 'array', items: { type: 'object', properties: {} } } }))).toContain('schema.properties.list.items is an object');
  });

  it('refuses recursive, external and dangling $refs and $ref in allOf', () => {
    expect(why({ ...obj({ node: { $ref: '#/$defs/node' } }), $defs: { node: obj({ next: { $ref: '#/$defs/node' } }) } })).toBe('#/$defs/node is recursive');
    expect(why({ ...obj({ a: { $ref: '#/definitions/a' } }), definitions: { a: obj({ b: { $ref: '#/definitions/b' } }), b: obj({ a: { $ref: '#/definitions/a' } }) } })).toContain('is recursive');
    expect(why(obj({ self: { $ref: '#' } }))).toContain('recursive');
    expect(why(obj({ ext: { $ref: 'https://example.com/s.json' } }))).toContain('not a local definition');
    expect(why(obj({ gone: { $ref: '#/$defs/none' } }))).toBe('$ref #/$defs/none names no definition');
    expect(why({ ...obj({ a: { allOf: [{ $ref: '#/$defs/x' }] } }), $defs: { x: { type: 'string' } } })).toContain('allOf.0 uses $ref');
  });

  it('bounded on hostile nesting, and a non-object is no schema', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 5000; i++) deep = { type: 'array', items: deep };
    expect(why(obj({ deep }))).toBe('the schema nests deeper than 64');
    expect(why(null)).toBe('schema is not a schema object');
    expect(why(obj({ a: true }))).toBe('schema.properties.a is not a schema object');
  });
});
