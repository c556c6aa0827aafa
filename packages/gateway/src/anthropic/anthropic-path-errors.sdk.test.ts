import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ERROR_CODES, LLMError, type LLMErrorCode } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody, errorStatus } from '../http/error-body.js';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// The gateway's 404 and 405 answers on Anthropic paths (`/v1/messages` and below: a wrong method, Anthropic resources
// the gateway does not serve such as the Message Batches API) and on any path asked by an Anthropic client (which sends
// `anthropic-version`) come in Anthropic's error shape, `{ type: "error", error: { type, message } }`, as the rest of
// `/v1/messages` does, so the official client reads them (`e.error.error.type`); a 405 keeps its `Allow` header. An
// OpenAI client still gets OpenAI's shape.

let gw: SdkGateway;

beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('claude')] });
});
afterAll(() => gw?.close());

type AnthropicBody = { type?: string; error?: { type?: string; message?: string } };

async function failure(call: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const e = await call.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(Anthropic.APIError);
  return e as InstanceType<typeof Anthropic.APIError>;
}

describe('errors on Anthropic paths are in the Anthropic shape', () => {
  it('GET /v1/messages: 405 invalid_request_error, Allow: POST', async () => {
    const e = await failure(gw.anthropic().get('/v1/messages'));
    expect(e.status).toBe(405);
    expect(e.headers?.get('allow')).toBe('POST');
    const body = e.error as AnthropicBody;
    expect(body.type).toBe('error');
    expect(body.error?.type).toBe('invalid_request_error');
    expect(body.error?.message).toContain('GET is not allowed on /v1/messages');
  });

  it('GET /v1/messages/count_tokens: 405 in the same shape', async () => {
    const e = await failure(gw.anthropic().get('/v1/messages/count_tokens'));
    expect(e.status).toBe(405);
    expect(e.headers?.get('allow')).toBe('POST');
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('the Message Batches API (not served): 404 not_found_error (NotFoundError) for listing and creating', async () => {
    const list = await failure(gw.anthropic().messages.batches.list());
    expect(list).toBeInstanceOf(Anthropic.NotFoundError);
    expect(list.error).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'No route for GET /v1/messages/batches' } });
    const create = await failure(gw.anthropic().messages.batches.create({ requests: [{ custom_id: 'a', params: { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] } }] }));
    expect(create).toBeInstanceOf(Anthropic.NotFoundError);
    expect(create.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });

  it('any unknown path asked by an Anthropic client (anthropic-version; the legacy POST /v1/complete): 404 in its shape', async () => {
    const e = await failure(gw.anthropic().post('/v1/complete', { body: { model: 'claude', max_tokens_to_sample: 5, prompt: '\n\nHuman: Hi\n\nAssistant:' } }));
    expect(e).toBeInstanceOf(Anthropic.NotFoundError);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'not_found_error', message: 'No route for POST /v1/complete' } });
  });
});

describe('an OpenAI client keeps the OpenAI shape', () => {
  it('an unknown OpenAI path: 404 with error.type not_found_error and no top-level type', async () => {
    const e = await gw
      .openai()
      .batches.list()
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.NotFoundError);
    const err = e as InstanceType<typeof OpenAI.NotFoundError>;
    expect(err.error).toMatchObject({ type: 'not_found_error', message: 'No route for GET /v1/batches' });
    expect(err.error).not.toHaveProperty('error');
  });

  it('a wrong method on an OpenAI path: 405 in the OpenAI shape', async () => {
    const e = await gw
      .openai()
      .get('/chat/completions')
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    const err = e as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(405);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
  });
});

describe("error.type on Anthropic paths is Anthropic's documented type for the status", () => {
  let small: SdkGateway;
  beforeAll(async () => {
    small = await servedGateway({ models: [mockModel('claude')], gateway: { limits: { maxBodyBytes: 64 * 1024 } } });
  });
  afterAll(() => small?.close());

  it('a body over the limit: 413 request_too_large on /v1/messages and count_tokens, as the Anthropic client reads it; OpenAI routes keep invalid_request_error', async () => {
    const content = 'x'.repeat(100 * 1024);
    for (const call of [
      small.anthropic().messages.create({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content }] }),
      small.anthropic().messages.countTokens({ model: 'claude', messages: [{ role: 'user', content }] }),
    ]) {
      const e = await failure(call);
      expect(e.status).toBe(413);
      expect(e.error as AnthropicBody).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    }
    const openai = await small
      .openai()
      .chat.completions.create({ model: 'claude', messages: [{ role: 'user', content }] })
      .then(() => undefined, (err: unknown) => err as InstanceType<typeof OpenAI.APIError>);
    expect([openai?.status, (openai?.error as { type?: string } | undefined)?.type, openai?.code]).toEqual([413, 'invalid_request_error', 'payload_too_large']);
  });

  it('every code maps to a type the Anthropic API documents (docs.claude.com/en/api/errors) for its status', () => {
    const documented: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 402: 'billing_error', 403: 'permission_error', 404: 'not_found_error', 409: 'conflict_error', 413: 'request_too_large', 429: 'rate_limit_error', 500: 'api_error', 504: 'timeout_error', 529: 'overloaded_error' };
    for (const code of Object.keys(ERROR_CODES) as LLMErrorCode[]) {
      const err = new LLMError({ code, message: 'x' });
      const status = errorStatus(err, 'anthropic');
      const type = errorBody(err, 'req_1', 'anthropic').error.type;
      // Statuses Anthropic lists no type for: 4xx are invalid_request_error ("also used for other 4XX status codes"), 5xx api_error.
      const expected = documented[status] ?? (status === 499 ? 'aborted_error' : status < 500 ? 'invalid_request_error' : 'api_error');
      expect({ code, status, type }).toEqual({ code, status, type: expected });
    }
    // The OpenAI shape keeps the codes' own types.
    expect(errorBody(new LLMError({ code: 'payload_too_large', message: 'x' }), 'req_1').error.type).toBe('invalid_request_error');
  });
});
