import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { OpenAICompletionRequestSchema } from '../schemas/openai-completions.js';
import { validateBody } from './validate.js';

// validateBody names "the first issue of the one union option that fits the value's kind". The legacy completion's
// `prompt` is a string or an array of exactly one string; a prompt of token ids, `[1, 2, 3]` (one prompt: the openai
// SDK's `prompt: Array<number>`), fits the array option by kind, and the 400 says what is wrong with it: token ids
// are not taken (not "exactly one prompt", which the client did send).

function refusal(body: unknown): LLMError {
  try {
    validateBody(OpenAICompletionRequestSchema, body);
  } catch (e) {
    if (e instanceof LLMError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('validateBody: a union option picked by kind', () => {
  it('a single prompt of token ids is told token ids are not supported, not "exactly one prompt per request is supported"', () => {
    const e = refusal({ model: 'm', prompt: [1, 2, 3] });
    expect(e.code).toBe('invalid_request');
    expect(e.param).toMatch(/^prompt/);
    expect(e.message).not.toMatch(/exactly one prompt/);
    expect(e.message).toBe('Invalid request: prompt.0: a prompt of token ids is not supported: send the prompt as text');
  });

  it('one token id, and a batch of token-id prompts, are told the same', () => {
    expect(refusal({ model: 'm', prompt: [7] }).message).toMatch(/^Invalid request: prompt\.0: a prompt of token ids is not supported/);
    expect(refusal({ model: 'm', prompt: [[1, 2], [3]] }).message).toMatch(/^Invalid request: prompt\.0: a prompt of token ids is not supported/);
  });

  it('an element of another kind keeps the plain type message', () => {
    expect(refusal({ model: 'm', prompt: [{ text: 'a' }] }).message).toBe('Invalid request: prompt.0: Invalid input: expected string, received object');
  });

  it('(control) two string prompts, or none, are told a request takes exactly one', () => {
    expect(refusal({ model: 'm', prompt: ['a', 'b'] }).message).toBe('Invalid request: prompt: exactly one prompt per request is supported');
    expect(refusal({ model: 'm', prompt: [] }).message).toBe('Invalid request: prompt: exactly one prompt per request is supported');
  });

  it('(control) one string prompt, bare or in an array, is taken', () => {
    expect(validateBody(OpenAICompletionRequestSchema, { model: 'm', prompt: ['a'] }).prompt).toEqual(['a']);
    expect(validateBody(OpenAICompletionRequestSchema, { model: 'm', prompt: 'a' }).prompt).toBe('a');
  });
});
