/**
 * Provider error types and statuses are read from the upstream's body and looked up in tables of ours: a name
 * that only Object.prototype has ("constructor", "toString") is an unknown one (`provider_error`), never a
 * function taken for an error code.
 */
import { describe, expect, it } from 'vitest';
import { anthropicStreamError, extractAnthropicError } from './anthropic/anthropic-error.js';
import { extractGeminiError, geminiStreamError } from './gemini/gemini-error.js';

const NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

describe('provider error types named like Object.prototype members', () => {
  it.each(NAMES)('anthropic error type "%s" is an unknown one', (type) => {
    const body = { type: 'error', error: { type, message: 'odd' } };
    expect(extractAnthropicError(body).code).toBeUndefined();
    const e = anthropicStreamError(body, { provider: 'anthropic' });
    expect({ code: e.code, status: e.statusCode }).toEqual({ code: 'provider_error', status: 502 });
  });

  it.each(NAMES)('gemini error status "%s" is an unknown one', (status) => {
    const body = { error: { code: 500, status, message: 'odd' } };
    expect(extractGeminiError(body).code).toBeUndefined();
    const e = geminiStreamError(body, { provider: 'gemini' });
    expect({ code: e.code, status: e.statusCode }).toEqual({ code: 'provider_error', status: 502 });
  });
});
