import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { errorReply } from './error-body.js';

// The error reply of an answer lost after the provider accepted it (`afterResponse`) tells clients not to send the
// request again (`x-should-retry: false`, honoured by the official OpenAI and Anthropic clients) and keeps a message
// saying so, also where the error's own message is hidden (an internal error).

describe('errorReply of an afterResponse error', () => {
  it('an upstream network error after the 200: 502 with x-should-retry false and the lost-answer message', () => {
    const e = new LLMError({ code: 'network_error', message: 'Network error: terminated', provider: 'openai', deployment: 'a' }).with({
      afterResponse: true,
      isRetryable: false,
      message: 'Network error: terminated (after the provider accepted the request: the answer is lost and was not requested again, as it may be billed)',
    });
    const reply = errorReply(e, 'req_1');
    expect(reply.status).toBe(502);
    expect(reply.headers['x-should-retry']).toBe('false');
    expect(JSON.parse(reply.body as string).error.message).toContain('the answer is lost and was not requested again');
  });

  it('an internal error after the 200 keeps the mark and says the answer is lost, not its own message', () => {
    const e = new LLMError({ code: 'internal', message: 'secret detail', provider: 'openai', afterResponse: true });
    const reply = errorReply(e, 'req_1', 'anthropic');
    const message: string = JSON.parse(reply.body as string).error.message;
    expect({ status: reply.status, retry: reply.headers['x-should-retry'] }).toEqual({ status: 500, retry: 'false' });
    expect(message).toContain('the answer is lost and was not requested again');
    expect(message).not.toContain('secret');
  });

  it('other 5xx errors leave the header out (the clients retry them as before)', () => {
    const reply = errorReply(new LLMError({ code: 'network_error', message: 'Network error: ECONNREFUSED', provider: 'openai' }), 'req_1');
    expect({ status: reply.status, retry: reply.headers['x-should-retry'] }).toEqual({ status: 502, retry: undefined });
  });
});
