import type { CallWarning } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { WARNINGS_LOOKED_AT_MAX, showWarnings, wellFormedWarnings } from './call-warnings.js';

// A plain-JS engine may send a warnings array of any length: the work over it is bounded by WARNINGS_LOOKED_AT_MAX,
// not by its `length` (a sparse array of 2**32 - 1 would be some 4e9 indexes).

const NOTE: CallWarning = { code: 'custom_note', message: 'noted' };

describe('wellFormedWarnings: a bounded look at the list', () => {
  it('a sparse array of length 2**32 - 1 (the largest): the first entries looked at, the rest said in one warnings_omitted', () => {
    const list: CallWarning[] = [];
    list[0] = NOTE;
    list.length = 2 ** 32 - 1;
    const out = wellFormedWarnings(list);
    // Entries 1 to WARNINGS_LOOKED_AT_MAX - 1 are holes (counted as not objects); the others are not looked at.
    expect(out.map((w) => w.code)).toEqual(['custom_note', 'invalid_warning', 'warnings_omitted']);
    expect(out[1]!.message).toContain(`${WARNINGS_LOOKED_AT_MAX - 1} warnings`);
    expect(out[2]!.message).toContain(String(2 ** 32 - 1 - WARNINGS_LOOKED_AT_MAX));
  });

  it('a long list of well-formed warnings: the first WARNINGS_LOOKED_AT_MAX kept, in order, and a count of the others', () => {
    const list = Array.from({ length: WARNINGS_LOOKED_AT_MAX + 10 }, (_, i): CallWarning => ({ code: 'custom_note', field: `f${i}`, message: 'noted' }));
    const out = wellFormedWarnings(list);
    expect(out).toHaveLength(WARNINGS_LOOKED_AT_MAX + 1);
    expect(out[WARNINGS_LOOKED_AT_MAX - 1]!.field).toBe(`f${WARNINGS_LOOKED_AT_MAX - 1}`);
    expect(out.at(-1)).toMatchObject({ code: 'warnings_omitted', message: expect.stringContaining('the other 10 left out') });
  });

  it('a list of exactly WARNINGS_LOOKED_AT_MAX well-formed warnings is returned as it is', () => {
    const list = Array.from({ length: WARNINGS_LOOKED_AT_MAX }, (): CallWarning => NOTE);
    expect(wellFormedWarnings(list)).toBe(list);
  });

  it('showWarnings on the huge sparse array: a header within its bound that says what was left out', () => {
    const list: CallWarning[] = [];
    list.length = 2 ** 32 - 1;
    list[2 ** 32 - 2] = NOTE; // past the entries looked at
    const headers: Record<string, string> = {};
    showWarnings(list, [{ path: 'prompt', text: true }], headers, undefined);
    const value = headers['x-llmrr-warnings'];
    expect(value).toBeDefined();
    expect(value).toContain('invalid_warning');
    expect(value).toContain('warnings_omitted');
    expect(value).not.toContain('custom_note');
  });
});
