import { describe, expect, it } from 'vitest';
import { openAIStrictSchemaProblem } from './openai-strict-schema.js';

const closed = (properties: Record<string, unknown>) => ({ type: 'object', properties, required: Object.keys(properties), additionalProperties: false });

describe('openAIStrictSchemaProblem', () => {
  it('takes closed objects with every property required, nullable ones included', () => {
    expect(openAIStrictSchemaProblem(closed({ a: { type: ['string', 'null'] }, b: { type: 'array', items: closed({ c: { type: 'number' } }) } }))).toBeUndefined();
  });

  it('names the first open object or optional property, through items, anyOf, $defs and definitions', () => {
    expect(openAIStrictSchemaProblem(closed({ list: { type: 'array', items: { type: 'object', properties: {} } } }))).toBe('schema.properties.list.items is an object without additionalProperties: false');
    expect(openAIStrictSchemaProblem(closed({ u: { anyOf: [{ type: 'string' }, { type: 'object', properties: { x: { type: 'string' } }, additionalProperties: false }] } }))).toContain('schema.properties.u.anyOf.1.properties.x is optional');
    expect(openAIStrictSchemaProblem({ ...closed({}), $defs: { d: { type: 'object' } } })).toBe('schema.$defs.d is an object without additionalProperties: false');
    expect(openAIStrictSchemaProblem({ ...closed({}), definitions: { d: { properties: {}, additionalProperties: true } } })).toBe('schema.definitions.d is an object without additionalProperties: false');
  });

  it('bounded on hostile nesting', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 5000; i++) deep = { type: 'array', items: deep };
    expect(openAIStrictSchemaProblem(closed({ deep }))).toBe('the schema nests deeper than 64');
  });
});
