import { describe, expect, it } from 'vitest';
import { wideRequiredSchema } from '../shared/wide-object-schema.test-helpers.js';
import { fitsAnthropicStrict } from './fits-anthropic-strict.js';

describe('fitsAnthropicStrict on hostile schemas', () => {
  it('answers (fits or not) instead of throwing on a long, non-recursive chain of $defs', () => {
    // 20,000 definitions, each naming the next: about 650 KB of JSON, no cycle. recursive() walks the chain
    // depth-first with one JS frame per definition and overflows the stack (RangeError escapes the Misfit catch).
    const n = 20_000;
    const defs: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) defs[`d${i}`] = i + 1 < n ? { $ref: `#/$defs/d${i + 1}` } : { type: 'string' };
    const schema = { type: 'object', additionalProperties: false, properties: { a: { $ref: '#/$defs/d0' } }, required: ['a'], $defs: defs };
    expect(() => fitsAnthropicStrict(schema)).not.toThrow();
  });

  it('checks required properties in work linear in the schema size (not properties x required)', () => {
    // The doc comment promises "Work is linear in the schema's size"; `required.includes(key)` per property is
    // quadratic: an 800 KB schema of 40,000 required properties takes about 2 s of CPU per call.
    const p = 2_000;
    const { schema, requiredReads } = wideRequiredSchema(p);
    const fit = fitsAnthropicStrict(schema);
    expect(fit.fits).toBe(true);
    expect(requiredReads()).toBeLessThan(20 * p);
  });
});

describe('fitsAnthropicStrict pattern rules', () => {
  it('takes a pattern with an escaped backslash before b (a literal "\\\\b", not a word boundary)', () => {
    // JSON "^C:\\\\bin$" is the regex ^C:\\bin$: a literal backslash then "bin". No word boundary, no backreference.
    const fit = fitsAnthropicStrict({
      type: 'object',
      additionalProperties: false,
      properties: { dir: { type: 'string', pattern: '^C:\\\\bin$' } },
      required: ['dir'],
    });
    expect(fit).toEqual({ fits: true, optional: 0, unions: 0 });
  });
});
