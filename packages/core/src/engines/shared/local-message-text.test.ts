import { describe, expect, it } from 'vitest';
import { localMessageText } from './local-message-text.js';

describe('localMessageText', () => {
  it('joins a user message\'s text parts by newlines (as vLLM does), so words do not run together', () => {
    expect(localMessageText({ role: 'user', content: [{ type: 'text', text: 'Once upon' }, { type: 'text', text: 'a time' }] })).toBe('Once upon\na time');
    expect(localMessageText({ role: 'user', content: [{ type: 'text', text: 'one part' }] })).toBe('one part');
    expect(localMessageText({ role: 'user', content: 'as it is' })).toBe('as it is');
    expect(localMessageText({ role: 'assistant', content: null })).toBe('');
  });
});
