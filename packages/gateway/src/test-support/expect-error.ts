import { expect } from 'vitest';
import type { WireAnswer } from './raw-http.js';

/** What a body must never carry: a stack frame, a source path, node_modules. */
export const LEAK = /\n\s+at |node_modules|\/work\/|\/src\/|\.ts:\d+|\.js:\d+/;

export interface ExpectedError {
  status: number;
  code?: string;
  /** The field at fault; `null` when none is. Unchecked when absent. */
  param?: string | null;
  /** Anthropic routes add `"type": "error"` and `"request_id"` at the top. */
  style?: 'openai' | 'anthropic';
}

export interface GatewayError {
  type: string;
  code: string;
  message: string;
  param: string | null;
  request_id: string;
}

/**
 * Checks an error answer against the gateway's contract: the status (a 4xx here), JSON with exactly
 * `{ error: { type, code, message, param, request_id } }` (Anthropic style: `type: "error"` and the same `request_id`
 * at the top too), the request id equal to `x-request-id`, and
 * no stack trace or source path anywhere. Returns the error.
 */
export function expectGatewayError(answer: WireAnswer, expected: ExpectedError, label = ''): GatewayError {
  const where = `${label} -> ${answer.status} ${answer.body.slice(0, 300)}`;
  expect(answer.status, where).toBe(expected.status);
  expect(String(answer.headers['content-type']), where).toMatch(/^application\/json/);
  expect(answer.body, where).not.toMatch(LEAK);
  const parsed = JSON.parse(answer.body) as { type?: string; error: GatewayError; request_id?: string };
  if (expected.style === 'anthropic') {
    expect(parsed.type, where).toBe('error');
    // As Anthropic's API answers (its SDKs' `ErrorResponse`): the request id at the top too.
    expect(parsed.request_id, where).toBe(parsed.error.request_id);
  }
  expect(Object.keys(parsed).sort(), where).toEqual(expected.style === 'anthropic' ? ['error', 'request_id', 'type'] : ['error']);
  const error = parsed.error;
  expect(Object.keys(error).sort(), where).toEqual(['code', 'message', 'param', 'request_id', 'type']);
  // (Anthropic's own type for a 413 is `request_too_large`.)
  expect(error.type, where).toMatch(expected.style === 'anthropic' ? /^([a-z_]+_error|request_too_large)$/ : /^[a-z_]+_error$/);
  if (expected.code !== undefined) expect(error.code, where).toBe(expected.code);
  expect(error.message.length, where).toBeGreaterThan(5);
  if (expected.param !== undefined) expect(error.param, where).toBe(expected.param);
  expect(error.request_id, where).toMatch(/^req_[0-9a-f]{32}$/);
  expect(answer.headers['x-request-id'], where).toBe(error.request_id);
  return error;
}
