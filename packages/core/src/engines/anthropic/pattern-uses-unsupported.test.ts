import { describe, expect, it } from 'vitest';
import { patternUsesUnsupported } from './fits-anthropic-strict.js';

describe('patternUsesUnsupported (Anthropic strict mode: no backreferences, lookarounds or word boundaries)', () => {
  it('finds each unsupported construct', () => {
    for (const p of ['(a)\\1', '(?<n>a)\\k<n>', 'a(?=b)', 'a(?!b)', '(?<=a)b', '(?<!a)b', '\\bword', 'a\\B']) expect(patternUsesUnsupported(p), p).toBe(true);
  });

  it('reads escapes and character classes as the regex engine does', () => {
    for (const p of ['^C:\\\\bin$', '\\\\1', '\\(?=', '[\\b]', '[(?=]', '[]b]', '^[a-z]+(?:-[a-z]+)*$', '\\d{3}-\\d{4}', '']) expect(patternUsesUnsupported(p), p).toBe(false);
  });
});
