import { describe, expect, it } from 'vitest';
import { joinAnswerText } from './answer-text.js';

const join = (pieces: string[]) => pieces.reduce(joinAnswerText, '');

describe('joinAnswerText', () => {
  it('joins the pieces of an answer as they are: the model wrote them so (a stream splits its text around a tool call)', () => {
    expect(join(['Let me check.', ' One moment.'])).toBe('Let me check. One moment.');
    expect(join(['\u6211\u67e5\u4e00\u4e0b\u3002', '\u597d\u4e86\u3002'])).toBe('\u6211\u67e5\u4e00\u4e0b\u3002\u597d\u4e86\u3002');
    expect(join(['a', '', 'b'])).toBe('ab');
    expect(join([])).toBe('');
  });
});
