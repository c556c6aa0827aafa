import { inspect } from 'node:util';
import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { loggedError } from './logged-error.js';

const USAGE = Symbol.for('test.usage');
const toolCall = () =>
  new LLMError({
    code: 'invalid_response',
    message: 'gemini: the model made a malformed function call (finishReason MALFORMED_FUNCTION_CALL); no usable answer',
    provider: 'gemini',
    deployment: 'gem',
    modelFault: true,
    details: { finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: "print(default_api.lookup(ssn='123-45-6789'))", [USAGE]: { inputTokens: 3 } },
  });

describe('loggedError', () => {
  it("drops a finishMessage, keeping code, provider, status, finishReason, the details' symbol keys and the stack", () => {
    const e = toolCall();
    const logged = loggedError(e) as LLMError;
    expect(inspect(logged, { depth: 10 })).not.toContain('123-45-6789');
    expect({ code: logged.code, provider: logged.provider, status: logged.statusCode, details: logged.details, stack: logged.stack }).toEqual({
      code: 'invalid_response',
      provider: 'gemini',
      status: 502,
      details: { finishReason: 'MALFORMED_FUNCTION_CALL', [USAGE]: { inputTokens: 3 } },
      stack: e.stack,
    });
    // The error itself is left as it is (the call's error, the ledger's).
    expect((e.details as Record<string, unknown>).finishMessage).toBeDefined();
  });

  it('drops it from a cause too (a circuit_open whose cause is the failed tool call)', () => {
    const open = new LLMError({ code: 'circuit_open', message: 'Circuit of "b" is open', deployment: 'b', cause: toolCall() });
    const logged = loggedError(open) as LLMError;
    expect(logged.code).toBe('circuit_open');
    expect((logged.cause as LLMError).code).toBe('invalid_response');
    expect(inspect(logged, { depth: 10 })).not.toContain('123-45-6789');
  });

  it('returns any other error, or value, as it is', () => {
    const plain = new LLMError({ code: 'provider_unavailable', message: 'down', details: { upstream: 'x' } });
    expect(loggedError(plain)).toBe(plain);
    const other = new Error('boom');
    expect(loggedError(other)).toBe(other);
    expect(loggedError(12)).toBe(12);
  });
});
