import { describe, expect, it } from 'vitest';
import { wireJsonSchema, wireJsonSchemas, wireSchemas } from './json-schema.js';

describe('wire schemas as JSON Schema', () => {
  it('exports every schema', () => {
    const all = wireJsonSchemas() as { $defs: Record<string, { type?: string }> };
    expect(Object.keys(all.$defs).sort()).toEqual(Object.keys(wireSchemas).sort());
    const chat = wireJsonSchema('OpenAIChatRequest') as { required: string[]; properties: Record<string, unknown> };
    expect(chat.required).toEqual(expect.arrayContaining(['model', 'messages']));
    expect(chat.properties).toHaveProperty('llmrr');
    expect(JSON.parse(JSON.stringify(all))).toEqual(all);
  });
});
