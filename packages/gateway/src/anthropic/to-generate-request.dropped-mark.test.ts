import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { messagesToGenerateRequest } from './to-generate-request.js';

// `systemMessages`: a mark on an empty first system block has no block before it to move to and is dropped
// (Anthropic refuses a mark on empty text). A mark that is thrown away must change nothing: the system prompt
// converts as without it, one message with the blocks joined with "\n" (not split into one message per block,
// which the core engines would join their own way: Anthropic and Gemini with "\n\n", OpenAI-compatible not at all).
// (First written as a review test of c14333b, which split it.)

const convert = (system: unknown) =>
  messagesToGenerateRequest(validateBody(AnthropicMessagesRequestSchema, { model: 'claude', max_tokens: 100, system, messages: [{ role: 'user', content: 'hi' }] }));

describe('a dropped system mark changes nothing', () => {
  it('system [empty marked block, A, B]: the mark is dropped, so it converts as without the mark (one message, blocks joined with "\\n")', () => {
    const marked = convert([{ type: 'text', text: '', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Rules A.' }, { type: 'text', text: 'Rules B.' }]);
    const unmarked = convert([{ type: 'text', text: '' }, { type: 'text', text: 'Rules A.' }, { type: 'text', text: 'Rules B.' }]);
    expect(unmarked.messages[0]).toEqual({ role: 'system', content: '\nRules A.\nRules B.' });
    expect(marked.messages).toEqual(unmarked.messages);
  });
});
