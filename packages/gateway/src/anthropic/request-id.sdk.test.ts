import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The official @anthropic-ai/sdk client reads the request id from the `request-id` header (what Anthropic's API sends:
// `_request_id` of an answer, `APIError.requestID` of an error), the OpenAI SDKs from `x-request-id`: the gateway sends
// its own request id under both names, on answers, streams and errors, over a local Anthropic-wire upstream.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude')]);

const ask = { model: 'claude', max_tokens: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };

/** The SDK's error for a call naming a model the gateway does not have (a 404). */
async function unknownModelError(): Promise<InstanceType<typeof Anthropic.NotFoundError>> {
  const err = await wire.gw
    .anthropic()
    .messages.create({ ...ask, model: 'no-such-model' })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.NotFoundError);
  return err as InstanceType<typeof Anthropic.NotFoundError>;
}

describe('request id as the Anthropic SDK reads it (the `request-id` header)', () => {
  it('messages.create().withResponse(): request_id is the gateway request id (the x-request-id header)', async () => {
    wire.upstreams.anthropic.enqueue({ content: 'Hello' });
    const { data, request_id, response } = await wire.gw.anthropic().messages.create(ask).withResponse();
    const gatewayId = response.headers.get('x-request-id');
    expect(gatewayId).toMatch(/^req_/);
    expect(data.id).toBe(`msg_${gatewayId}`);
    // @anthropic-ai/sdk reads the id from `request-id` (core/api-promise.js, internal/parse.js `_request_id`).
    expect(request_id).toBe(gatewayId);
  });

  it('a streamed answer: request_id is the gateway request id', async () => {
    wire.upstreams.anthropic.enqueue({ content: 'Hello there' });
    const { data: stream, request_id, response } = await wire.gw.anthropic().messages.create({ ...ask, stream: true }).withResponse();
    const events: string[] = [];
    for await (const event of stream) events.push(event.type);
    expect(events.at(-1)).toBe('message_stop');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
  });

  it('count_tokens: request_id is the gateway request id', async () => {
    const { request_id, response } = await wire.gw.anthropic().messages.countTokens({ model: 'claude', messages: ask.messages }).withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
  });

  it('an error: APIError.requestID is the gateway request id of the error body', async () => {
    const apiError = await unknownModelError();
    const bodyId = (apiError.error as { error: { request_id: string } }).error.request_id;
    expect(bodyId).toMatch(/^req_/);
    // @anthropic-ai/sdk core/error.js: `this.requestID = headers?.get('request-id')`.
    expect(apiError.requestID).toBe(bodyId);
    expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  });

  it("an error's body has `request_id` at its top, as Anthropic's (`ErrorResponse`), and in `error` as every gateway error has it", async () => {
    const apiError = await unknownModelError();
    // The SDK's `APIError.error` is the whole body, typed as its `ErrorResponse` (`type`, `error`, `request_id`).
    const body = apiError.error as unknown as Anthropic.ErrorResponse & { error: { request_id: string } };
    expect(body.type).toBe('error');
    expect(body.request_id).toMatch(/^req_/);
    expect(body.request_id).toBe(apiError.requestID);
    expect(body.error.request_id).toBe(body.request_id);
    expect(body.error.type).toBe('not_found_error');
  });

  it('a path of the Messages API the gateway does not serve (the Message Batches API): its 404 has the top-level request_id too', async () => {
    const err = await wire.gw
      .anthropic()
      .messages.batches.retrieve('msgbatch_none')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const apiError = err as InstanceType<typeof Anthropic.NotFoundError>;
    const body = apiError.error as unknown as Anthropic.ErrorResponse;
    expect({ type: body.type, request_id: body.request_id }).toEqual({ type: 'error', request_id: apiError.requestID });
    expect(apiError.requestID).toMatch(/^req_/);
  });

  it("a stream's error event (its upstream's overloaded_error after the first events): the SDK's APIError.error has the top-level request_id", async () => {
    wire.upstreams.anthropic.enqueue({ content: 'Hello there friend', chunks: 3, streamError: { afterEvents: 5 } });
    const { data: stream, response } = await wire.gw.anthropic().messages.create({ ...ask, stream: true }).withResponse();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    // Ended by the error event after the answer started (not an error status before it).
    expect(seen).toContain('content_block_delta');
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const body = (err as InstanceType<typeof Anthropic.APIError>).error as Anthropic.ErrorResponse;
    expect(body.type).toBe('error');
    expect(body.request_id).toBe(response.headers.get('request-id'));
    expect(body.request_id).toMatch(/^req_/);
  });

  it('models.list() (a route the gateway serves through its app): the page carries the request id too', async () => {
    const { request_id, response } = await wire.gw.anthropic().models.list().withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
  });
});
