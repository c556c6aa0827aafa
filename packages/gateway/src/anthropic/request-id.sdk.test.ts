import Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The official @anthropic-ai/sdk client reads the request id from the `request-id` header (what Anthropic's API sends:
// `_request_id` of an answer, `APIError.requestID` of an error), the OpenAI SDKs from `x-request-id`: the gateway sends
// its own request id under both names, on answers, streams and errors, over a local Anthropic-wire upstream.

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const ask = { model: 'claude', max_tokens: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('request id as the Anthropic SDK reads it (the `request-id` header)', () => {
  it('messages.create().withResponse(): request_id is the gateway request id (the x-request-id header)', async () => {
    claudeUp.enqueue({ content: 'Hello' });
    const { data, request_id, response } = await gw.anthropic().messages.create(ask).withResponse();
    const gatewayId = response.headers.get('x-request-id');
    expect(gatewayId).toMatch(/^req_/);
    expect(data.id).toBe(`msg_${gatewayId}`);
    // @anthropic-ai/sdk reads the id from `request-id` (core/api-promise.js, internal/parse.js `_request_id`).
    expect(request_id).toBe(gatewayId);
  });

  it('a streamed answer: request_id is the gateway request id', async () => {
    claudeUp.enqueue({ content: 'Hello there' });
    const { data: stream, request_id, response } = await gw.anthropic().messages.create({ ...ask, stream: true }).withResponse();
    const events: string[] = [];
    for await (const event of stream) events.push(event.type);
    expect(events.at(-1)).toBe('message_stop');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
  });

  it('count_tokens: request_id is the gateway request id', async () => {
    const { request_id, response } = await gw.anthropic().messages.countTokens({ model: 'claude', messages: ask.messages }).withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
  });

  it('an error: APIError.requestID is the gateway request id of the error body', async () => {
    const err = await gw
      .anthropic()
      .messages.create({ ...ask, model: 'no-such-model' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const apiError = err as InstanceType<typeof Anthropic.NotFoundError>;
    const bodyId = (apiError.error as { error: { request_id: string } }).error.request_id;
    expect(bodyId).toMatch(/^req_/);
    // @anthropic-ai/sdk core/error.js: `this.requestID = headers?.get('request-id')`.
    expect(apiError.requestID).toBe(bodyId);
    expect(claudeUp.requests).toHaveLength(0);
  });

  it('models.list() (a route the gateway serves through its app): the page carries the request id too', async () => {
    const { request_id, response } = await gw.anthropic().models.list().withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get('x-request-id'));
  });
});
