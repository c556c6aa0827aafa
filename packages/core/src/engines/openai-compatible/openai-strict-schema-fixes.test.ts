import { describe, expect, it } from 'vitest';
import { wideRequiredSchema } from '../shared/wide-object-schema.test-helpers.js';
import { openAIStrictSchemaProblem } from './openai-strict-schema.js';

describe('openAIStrictSchemaProblem on hostile schemas', () => {
  it('checks required properties in work linear in the schema size (not properties x required)', () => {
    // The doc comment promises "linear in the schema's size"; `Object.keys(props).find((k) => !required.includes(k))`
    // is quadratic: an 800 KB tool schema of 40,000 required properties costs about 2 s of CPU per request.
    const p = 2_000;
    const { schema, requiredReads } = wideRequiredSchema(p);
    expect(openAIStrictSchemaProblem(schema)).toBeUndefined();
    expect(requiredReads()).toBeLessThan(20 * p);
  });
});
