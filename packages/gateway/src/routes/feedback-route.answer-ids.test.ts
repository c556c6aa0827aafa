import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestIdsOfAnswerId } from '../http/request-id.js';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway;
beforeAll(async () => {
  gw = await servedGateway({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive' } });
});
afterAll(async () => {
  await gw?.close();
});

async function feedback(requestId: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gw.url}/v1/feedback`, { method: 'POST', headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' }, body: JSON.stringify({ request_id: requestId, score: 1 }) });
  return { status: res.status, body: await res.json() };
}

/** Waits for the call's ledger row (written as the call settles): feedback is only taken for a recorded request. */
async function recorded(requestId: string | null): Promise<void> {
  expect(requestId).toMatch(/^req_/);
  await expect.poll(async () => (await gw.ledger.get(requestId!))?.tenantId, { timeout: 5000 }).toBe('acme');
}

describe('POST /v1/feedback by the id the official SDK returns', () => {
  it("chat completions: completion.id (chatcmpl-<request id>) scores the call, as its x-request-id does", async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    const requestId = response.headers.get('x-request-id');
    await recorded(requestId);
    expect(data.id).toBe(`chatcmpl-${requestId}`);
    expect(await feedback(data.id)).toEqual({ status: 200, body: { accepted: true } });
    // The call's one score is taken: by its x-request-id too it is known (200), but already scored.
    expect(await feedback(requestId!)).toEqual({ status: 200, body: expect.objectContaining({ accepted: false, reason: 'not_pending' }) });
  });

  it('completions: completion.id (cmpl-<request id>) scores the call', async () => {
    const { data, response } = await gw.openai().completions.create({ model: 'auto', prompt: 'hello' }).withResponse();
    await recorded(response.headers.get('x-request-id'));
    expect(data.id).toMatch(/^cmpl-req_/);
    expect(await feedback(data.id)).toEqual({ status: 200, body: { accepted: true } });
  });

  it('Responses API: response.id (resp_<hex>), or its message id (msg_<hex>), scores the call', async () => {
    const first = await gw.openai().responses.create({ model: 'auto', input: 'hello' }).withResponse();
    await recorded(first.response.headers.get('x-request-id'));
    expect(first.data.id).toMatch(/^resp_/);
    expect(await feedback(first.data.id)).toEqual({ status: 200, body: { accepted: true } });
    const second = await gw.openai().responses.create({ model: 'auto', input: 'hello' }).withResponse();
    await recorded(second.response.headers.get('x-request-id'));
    const message = second.data.output.find((o) => o.type === 'message');
    expect(message?.id).toMatch(/^msg_/);
    expect(await feedback(message!.id!)).toEqual({ status: 200, body: { accepted: true } });
  });

  it('Anthropic Messages: message.id (msg_<request id>) scores the call', async () => {
    const { data, response } = await gw.anthropic().messages.create({ model: 'a', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    await recorded(response.headers.get('request-id') ?? response.headers.get('x-request-id'));
    expect(await feedback(data.id)).toEqual({ status: 200, body: { accepted: true } });
  });

  it('an id of no call of the tenant is a 404 naming request_id that says which ids are taken', async () => {
    for (const id of ['chatcmpl-req_0000', 'resp_0000', 'msg_nothing', 'nothing']) {
      const got = await feedback(id);
      expect(got.status).toBe(404);
      const error = (got.body as { error: { code: string; param: string; message: string } }).error;
      expect(error).toMatchObject({ code: 'not_found', param: 'request_id' });
      expect(error.message).toContain(`"${id}"`);
      for (const prefix of ['x-request-id', 'chatcmpl-', 'cmpl-', 'msg_', 'resp_']) expect(error.message).toContain(prefix);
    }
  });
});

describe('requestIdsOfAnswerId', () => {
  it('maps each answer id prefix back to the request id, the id itself first', () => {
    expect(requestIdsOfAnswerId('req_ab12')).toEqual(['req_ab12']);
    expect(requestIdsOfAnswerId('chatcmpl-req_ab12')).toEqual(['chatcmpl-req_ab12', 'req_ab12']);
    expect(requestIdsOfAnswerId('cmpl-custom-7')).toEqual(['cmpl-custom-7', 'custom-7']);
    expect(requestIdsOfAnswerId('msg_req_ab12')).toEqual(['msg_req_ab12', 'req_ab12']);
    expect(requestIdsOfAnswerId('msg_ab12')).toEqual(['msg_ab12', 'req_ab12', 'ab12']);
    expect(requestIdsOfAnswerId('resp_ab12')).toEqual(['resp_ab12', 'req_ab12', 'ab12']);
    expect(requestIdsOfAnswerId('resp_')).toEqual(['resp_']);
  });
});
