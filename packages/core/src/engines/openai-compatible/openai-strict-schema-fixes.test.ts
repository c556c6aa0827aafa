import { describe, expect, it } from 'vitest';
import { openAIStrictSchemaProblem } from './openai-strict-schema.js';

describe('openAIStrictSchemaProblem on hostile schemas', () => {
  it('checks required properties in work linear in the schema size (not properties x required)', () => {
    // The doc comment promises "linear in the schema's size"; `Object.keys(props).find((k) => !required.includes(k))`
    // is quadratic: an 800 KB tool schema of 40,000 required properties costs about 2 s of CPU per request.
    const p = 2_000;
    const properties: Record<string, unknown> = {};
    const names: string[] = [];
    for (let i = 0; i < p; i++) {
      properties[`p${i}`] = { type: 'string' };
      names.push(`p${i}`);
    }
    let reads = 0;
    const required = new Proxy(names, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(openAIStrictSchemaProblem({ type: 'object', additionalProperties: false, properties, required })).toBeUndefined();
    expect(reads).toBeLessThan(20 * p);
  });
});
