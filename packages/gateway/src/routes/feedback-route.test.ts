import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

const ADMIN = 'admin-secret-0123456789';
const hello = { model: 'auto', messages: [{ role: 'user', content: 'hello there' }] };

interface ErrorBody {
  error: { type: string; code: string; message: string; param: string | null; request_id: string };
}

describe('POST /v1/feedback', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** Two tenants with a key each, over a router ranking with the adaptive (learning) strategy. */
  async function tenants() {
    h = await createHarness({ stores: 'memory', models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive' }, gateway: { auth: { adminKey: ADMIN } } });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    await stores.tenants.createTenant({ id: 'globex', name: 'Globex' });
    const acme = { authorization: `Bearer ${(await stores.tenants.createKey('acme', { name: 'k' })).secret}` };
    const globex = { authorization: `Bearer ${(await stores.tenants.createKey('globex', { name: 'k' })).secret}` };
    return { h, acme, globex };
  }

  /** `tenant`'s adaptive expected quality of `deployment`, as the router ranks it (its own explanation). */
  async function expectedQualityOf(h: Harness, tenant: string, deployment: string): Promise<number> {
    const d = await h.router.route('same prompt', { tenant, model: deployment, explain: true });
    return d.candidates.find((c) => c.name === deployment)!.factors!['expectedQuality']!;
  }

  /** `who`'s chat call to "a"; its request id. */
  async function callA(h: Harness, who: Record<string, string>): Promise<string> {
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'a', messages: [{ role: 'user', content: 'same prompt' }] }, who);
    expect(res.status).toBe(200);
    return res.headers.get('x-request-id')!;
  }

  const admin = (h: Harness, method: string, path: string, body?: unknown) =>
    h.gateway.fetch(new Request(`http://gateway.test${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }));

  it("a tenant whose own models are all removed keeps its scores of shared deployments and its calls' pending feedback", async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive', options: { adaptive: { explorationScale: 0.001 } } }, gateway: { auth: { adminKey: ADMIN } } });
    const s = h.stores!;
    await s.tenants.createTenant({ id: 'globex', name: 'Globex', models: [{ name: 'own', engine: 'mock', capabilities: ['chat', 'completion'] }] });
    const globex = { authorization: `Bearer ${(await s.tenants.createKey('globex', { name: 'k' })).secret}` };
    const before = await expectedQualityOf(h, 'globex', 'a');
    for (let i = 0; i < 10; i++) expect(await (await post(h.gateway, '/v1/feedback', { request_id: await callA(h, globex), score: 0 }, globex)).json()).toEqual({ accepted: true });
    expect(await expectedQualityOf(h, 'globex', 'a')).toBeLessThan(before - 0.3);
    const waiting = await callA(h, globex);

    // The admin removes globex's own model; globex keeps using the shared "a" (its next request syncs its models).
    expect((await admin(h, 'PATCH', '/admin/tenants/globex', { models: [] })).status).toBe(200);
    await callA(h, globex);
    expect(h.router.models('globex').some((m) => m.name === 'own')).toBe(false);

    expect(await expectedQualityOf(h, 'globex', 'a')).toBeLessThan(before - 0.3);
    expect(await (await post(h.gateway, '/v1/feedback', { request_id: waiting, score: 0 }, globex)).json()).toEqual({ accepted: true });
  });

  it('deleting a tenant without own models forgets its scores and its calls waiting for feedback', async () => {
    const { h, acme } = await tenants();
    const before = await expectedQualityOf(h, 'acme', 'a');
    for (let i = 0; i < 10; i++) expect(await (await post(h.gateway, '/v1/feedback', { request_id: await callA(h, acme), score: 0 }, acme)).json()).toEqual({ accepted: true });
    const waiting = await callA(h, acme);
    expect(await expectedQualityOf(h, 'acme', 'a')).toBeLessThan(before - 0.3);

    expect((await admin(h, 'DELETE', '/admin/tenants/acme')).status).toBe(200);
    // The router's view of "acme" (were the id used again) is the shared state; its pending call is gone.
    expect(await expectedQualityOf(h, 'acme', 'a')).toBe(await expectedQualityOf(h, 'globex', 'a'));
    expect(h.router.feedback(waiting, 0)).toBe(false);
  });

  it("scores the caller's own request: the router's feedback is called and the learning strategy accepts it", async () => {
    const { h, acme } = await tenants();
    const spy = vi.spyOn(h.router, 'feedback');
    const chat = await post(h.gateway, '/v1/chat/completions', hello, acme);
    expect(chat.status).toBe(200);
    const requestId = chat.headers.get('x-request-id')!;
    const res = await post(h.gateway, '/v1/feedback', { request_id: requestId, score: 0.8 }, acme);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: true });
    expect(spy).toHaveBeenCalledWith(requestId, 0.8);
  });

  it("a tenant's scores move its own adaptive ranking of a shared deployment, not another tenant's", async () => {
    const { h, acme, globex } = await tenants();
    // The router's own explanation: the gateway's shows a tenant no learned quality of a shared deployment.
    const expectedQuality = async (who: Record<string, string>) => expectedQualityOf(h, who === acme ? 'acme' : 'globex', 'a');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'a', messages: [{ role: 'user', content: 'same prompt' }] }, acme);
      expect(res.status).toBe(200);
      ids.push(res.headers.get('x-request-id')!);
    }
    const [globexBefore, acmeBefore] = [await expectedQuality(globex), await expectedQuality(acme)];
    for (const id of ids) expect(await (await post(h.gateway, '/v1/feedback', { request_id: id, score: 0 }, acme)).json()).toEqual({ accepted: true });
    // globex is ranked on the shared state only (acme's calls' live outcomes, not acme's scores).
    expect(await expectedQuality(globex)).toBe(globexBefore);
    expect(await expectedQuality(acme)).toBeLessThan(acmeBefore - 0.3);
  });

  it("refuses feedback on another tenant's request (404 naming request_id), as for an unknown id, without calling the router", async () => {
    const { h, acme, globex } = await tenants();
    const spy = vi.spyOn(h.router, 'feedback');
    const chat = await post(h.gateway, '/v1/chat/completions', hello, acme);
    const requestId = chat.headers.get('x-request-id')!;
    for (const [id, headers] of [
      [requestId, globex],
      ['req_never_seen', acme],
    ] as const) {
      const res = await post(h.gateway, '/v1/feedback', { request_id: id, score: 1 }, headers);
      expect(res.status).toBe(404);
      const body = (await res.json()) as ErrorBody;
      expect(body.error).toMatchObject({ code: 'not_found', param: 'request_id' });
      expect(body.error.message).toContain(id);
    }
    expect(spy).not.toHaveBeenCalled();
    // Without a key: not even looked up.
    expect((await post(h.gateway, '/v1/feedback', { request_id: requestId, score: 1 })).status).toBe(401);
  });

  it('answers 400 naming the field for a bad score or request_id', async () => {
    const { h, acme } = await tenants();
    const cases: Array<[unknown, string]> = [
      [{ request_id: 'r1', score: 1.5 }, 'score'],
      [{ request_id: 'r1', score: -0.1 }, 'score'],
      [{ request_id: 'r1', score: '1' }, 'score'],
      [{ request_id: 'r1' }, 'score'],
      [{ score: 0.5 }, 'request_id'],
      [{ request_id: '', score: 0.5 }, 'request_id'],
      [{ request_id: 'r1', score: 0.5, extra: true }, ''],
    ];
    for (const [body, param] of cases) {
      const res = await post(h.gateway, '/v1/feedback', body, acme);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = ((await res.json()) as ErrorBody).error;
      expect(error.code).toBe('invalid_request');
      if (param !== '') expect(error.param).toBe(param);
    }
  });

  it("without stores, scores move the router's shared ranking (the caller is no tenant of the router, no `anonymous` layer)", async () => {
    h = await createHarness({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive', options: { adaptive: { explorationScale: 0.001 } } } });
    const shared = async () => (await h!.router.route('same prompt', { model: 'a', explain: true })).candidates[0]!.factors!['expectedQuality']!;
    const before = await shared();
    for (let i = 0; i < 10; i++) expect(await (await post(h.gateway, '/v1/feedback', { request_id: await callA(h, {}), score: 0 }, {})).json()).toEqual({ accepted: true });
    expect(await shared()).toBeLessThan(before - 0.3);
  });

  it('without stores (one tenant): accepted as the router says; a request the strategy did not route is not accepted', async () => {
    h = await createHarness({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive' } });
    const chat = await post(h.gateway, '/v1/chat/completions', hello);
    const ok = await post(h.gateway, '/v1/feedback', { request_id: chat.headers.get('x-request-id'), score: 0 });
    expect(await ok.json()).toEqual({ accepted: true });
    const unknown = await post(h.gateway, '/v1/feedback', { request_id: 'req_other', score: 0 });
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toMatchObject({ accepted: false, reason: 'not_pending' });
    expect((await h.gateway.fetch(new Request('http://gateway.test/v1/feedback'))).status).toBe(405);
  });

  it("without stores: the chat completion's id (chatcmpl-<request id>) scores the call as its x-request-id does", async () => {
    h = await createHarness({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive' } });
    const spy = vi.spyOn(h.router, 'feedback');
    const chat = await post(h.gateway, '/v1/chat/completions', hello);
    const { id } = (await chat.json()) as { id: string };
    expect(id).toBe(`chatcmpl-${chat.headers.get('x-request-id')}`);
    expect(await (await post(h.gateway, '/v1/feedback', { request_id: id, score: 0 })).json()).toEqual({ accepted: true });
    expect(spy).toHaveBeenLastCalledWith(chat.headers.get('x-request-id'), 0);
  });

  it('a late score for a deployment replaced since by another model is not taken (accepted: false, the message says why)', async () => {
    h = await createHarness({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'adaptive' } });
    const late = await callA(h, {});
    h.router.load(mockModel('a', {}, { model: 'another-model' }));
    await callA(h, {});
    const res = await post(h.gateway, '/v1/feedback', { request_id: late, score: 0 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: false, reason: 'not_pending', message: expect.stringContaining('the deployment that answered was replaced since by another model under its name') });
  });

  it('a call routed by intelligent (an offline-trained model: no online learning) is known but its score not taken', async () => {
    const { h, acme } = await tenants();
    h.router.setStrategy('intelligent');
    const chat = await post(h.gateway, '/v1/chat/completions', hello, acme);
    expect(chat.status).toBe(200);
    await expect.poll(async () => (await h.stores!.ledger.get(chat.headers.get('x-request-id')!))?.tenantId, { timeout: 5000 }).toBe('acme');
    const res = await post(h.gateway, '/v1/feedback', { request_id: chat.headers.get('x-request-id'), score: 0 }, acme);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: false, reason: 'not_pending' });
  });
});
