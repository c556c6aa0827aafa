import { describe, expect, it } from 'vitest';
import { joinAnswerText } from './answer-text.js';

const join = (pieces: string[]) => pieces.reduce(joinAnswerText, '');

describe('joinAnswerText', () => {
  it('puts "\\n" between two pieces with no white space at the seam', () => {
    expect(join(['for you.', 'Now let me'])).toBe('for you.\nNow let me');
    expect(join(['a', 'b', 'c'])).toBe('a\nb\nc');
  });

  it('adds nothing where white space is already at the seam, on either side', () => {
    expect(join(['Let me ', 'check.'])).toBe('Let me check.');
    expect(join(['Let me check.', ' One moment.'])).toBe('Let me check. One moment.');
    expect(join(['Line one\n', 'Line two'])).toBe('Line one\nLine two');
    expect(join(['tab\t', 'x'])).toBe('tab\tx');
  });

  it('an empty piece adds nothing, first, between or last', () => {
    expect(join(['', 'a'])).toBe('a');
    expect(join(['a', '', 'b'])).toBe('a\nb');
    expect(join(['a', ''])).toBe('a');
    expect(join([])).toBe('');
  });
});
