/**
 * A tenant must not learn which models exist by asking for ones it may not use: a model outside its
 * allow-list and a model that does not exist get the same answer (404 `model_not_found`, same message
 * shape, same `param`), like OpenAI's "does not exist or you do not have access to it". The real reason
 * stays on the error's `cause` for the ledger and the server log.
 */
import { LLMError, type DeploymentInfo, type StateStores } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { errorReply } from '../http/error-body.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { checkFallbacks, isAllowed, modelRefused, recordedErrorCode, resolveModel, visibleDeployments } from './resolve-model.js';

function deployment(name: string, extra: Partial<DeploymentInfo> = {}): DeploymentInfo {
  return { name, enabled: true, ...extra } as DeploymentInfo;
}

const all = [deployment('mock'), deployment('secret-model'), deployment('off', { enabled: false }), deployment('grouped', { alias: 'team-alias' })];
const acme = { ...ANONYMOUS, tenantId: 'acme', tenant: { allowedModels: ['mock'] } } as unknown as Principal;

function refusal(requested: string, principal: Principal = acme): LLMError {
  try {
    resolveModel(requested, all, principal);
  } catch (e) {
    expect(LLMError.isInstance(e)).toBe(true);
    return e as LLMError;
  }
  throw new Error(`expected "${requested}" to be refused`);
}

/** What the caller sees, with the model name and the request id taken out. */
function publicView(e: LLMError, requested: string) {
  const reply = errorReply(e, 'req_x');
  return { status: reply.status, headers: reply.headers, body: String(reply.body).replaceAll(requested, '<model>') };
}

describe('resolveModel: unknown and not-allowed models look the same', () => {
  it('an existing model outside the allow-list, an unknown one, a disabled one and a hidden alias get the identical public error', () => {
    const views = ['secret-model', 'no-such-model', 'off', 'team-alias'].map((m) => publicView(refusal(m), m));
    expect(views[0]!.status).toBe(404);
    expect(JSON.parse(views[0]!.body)).toEqual({
      error: {
        type: 'not_found_error',
        code: 'model_not_found',
        message: 'The model "<model>" does not exist or you do not have access to it; GET /v1/models lists the models available to you',
        param: 'model',
        request_id: 'req_x',
      },
    });
    for (const v of views) expect(v).toEqual(views[0]);
  });

  it('the real reason is kept on the cause for the ledger and logs (recordedErrorCode), never in the public body', () => {
    const denied = refusal('secret-model');
    const unknown = refusal('no-such-model');
    expect(recordedErrorCode(denied)).toBe('permission_denied');
    expect(recordedErrorCode(unknown)).toBe('model_not_found');
    expect((denied.cause as LLMError).message).toContain('tenant "acme"');
    expect(String(errorReply(denied, 'r').body)).not.toMatch(/allow-list|permission|acme/);
    // Other errors record their own code.
    expect(recordedErrorCode(new LLMError({ code: 'rate_limited', message: 'slow down' }))).toBe('rate_limited');
    expect(recordedErrorCode(new LLMError({ code: 'model_not_found', message: 'from elsewhere' }))).toBe('model_not_found');
    expect(recordedErrorCode(modelRefused('x', 'not_allowed', 't'))).toBe('permission_denied');
  });

  it('allowed models, aliases of allowed deployments and auto still resolve', () => {
    expect(resolveModel('mock', all, acme).candidates.map((d) => d.name)).toEqual(['mock']);
    expect(resolveModel('auto', all, acme).candidates.map((d) => d.name)).toEqual(['mock']);
    expect(resolveModel('secret-model', all, ANONYMOUS).candidates.map((d) => d.name)).toEqual(['secret-model']);
    expect(resolveModel('team-alias', all, ANONYMOUS).candidates.map((d) => d.name)).toEqual(['grouped']);
  });
});

describe('resolveModel: auto when the tenant may use no model', () => {
  it('an allow-list that leaves no model is the 404 of a model the caller may not use (permanent: not a retried 503)', () => {
    const none = { ...ANONYMOUS, tenantId: 'acme', tenant: { allowedModels: ['gone'] } } as unknown as Principal;
    const e = refusal('auto', none);
    expect(publicView(e, 'auto')).toEqual(publicView(refusal('secret-model'), 'secret-model'));
    expect(recordedErrorCode(e)).toBe('permission_denied');
    expect((e.cause as LLMError).message).toBe('The allow-list of tenant "acme" leaves no model for "auto"');
  });

  it('models it may use that are all disabled now stay a 503 no_deployment (an operator may enable them again)', () => {
    const offOnly = { ...ANONYMOUS, tenantId: 'acme', tenant: { allowedModels: ['off'] } } as unknown as Principal;
    const e = refusal('auto', offOnly);
    expect(e.code).toBe('no_deployment');
    expect(errorReply(e, 'r').status).toBe(503);
  });
});

describe('the gateway answers probes for hidden and unknown models the same way', () => {
  let h: Harness;
  let auth: Record<string, string>;

  async function tenant(stores: StateStores) {
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', allowedModels: ['mock'] });
    const key = await stores.tenants.createKey('acme', { name: 'test' });
    return { authorization: `Bearer ${key.secret}` };
  }

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock'), mockModel('secret-model')] });
    auth = await tenant(h.stores!);
  });
  afterEach(() => h.close());

  /** Status, content type and body of a response, with the model name and request ids taken out. */
  async function seen(res: Response, requested: string) {
    const text = (await res.text()).replaceAll(requested, '<model>').replace(/"request_id":"[^"]*"/g, '"request_id":"<id>"');
    return { status: res.status, type: res.headers.get('content-type'), text };
  }

  const routes: Array<[string, (model: string) => unknown]> = [
    ['/v1/chat/completions', (model) => ({ model, messages: [{ role: 'user', content: 'hi' }] })],
    ['/v1/chat/completions', (model) => ({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] })],
    ['/v1/completions', (model) => ({ model, prompt: 'hi' })],
    ['/v1/responses', (model) => ({ model, input: 'hi' })],
    ['/v1/responses', (model) => ({ model, stream: true, input: 'hi' })],
    ['/v1/messages', (model) => ({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })],
    ['/v1/embeddings', (model) => ({ model, input: 'hi' })],
  ];

  for (const [path, body] of routes) {
    it(`${path}${(body('m') as { stream?: boolean }).stream ? ' (stream)' : ''}: 404 model_not_found for both, byte for byte`, async () => {
      const hidden = await seen(await post(h.gateway, path, body('secret-model'), auth), 'secret-model');
      const unknown = await seen(await post(h.gateway, path, body('no-such-model'), auth), 'no-such-model');
      expect(hidden.status).toBe(404);
      expect(hidden.text).toContain('model_not_found');
      expect(hidden).toEqual(unknown);
      // The allowed model still works for this tenant.
      expect((await post(h.gateway, path, body('mock'), auth)).status).toBe(200);
    });
  }

  it('auto for a tenant whose allow-list leaves no model: the same 404 model_not_found (an SDK does not retry it)', async () => {
    await h.stores!.tenants.createTenant({ id: 'empty', name: 'Empty', allowedModels: ['gone'] });
    const empty = { authorization: `Bearer ${(await h.stores!.tenants.createKey('empty', { name: 'test' })).secret}` };
    const res = await post(h.gateway, '/v1/chat/completions', routes[0]![1]('auto'), empty);
    const body = (await res.json()) as { error: { code: string; param: string; message: string } };
    expect({ status: res.status, code: body.error.code, param: body.error.param }).toEqual({ status: 404, code: 'model_not_found', param: 'model' });
    expect(body.error.message).toContain('does not exist or you do not have access to it');
  });

  it('the ledger records the real reason of each refusal (the 404s look alike), without charging anything', async () => {
    await (await post(h.gateway, '/v1/chat/completions', routes[0]![1]('secret-model'), auth)).text();
    await (await post(h.gateway, '/v1/chat/completions', routes[0]![1]('no-such-model'), auth)).text();
    const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(Object.fromEntries(rows.map((r) => [r.model, r.errorCode]))).toEqual({ 'secret-model': 'permission_denied', 'no-such-model': 'model_not_found' });
    expect(rows.every((r) => r.costUsd === 0 && r.status === 'error')).toBe(true);
  });

  it('metrics, which anyone may scrape by default, show only the public code', async () => {
    await (await post(h.gateway, '/v1/chat/completions', routes[0]![1]('secret-model'), auth)).text();
    const text = await (await h.gateway.fetch(new Request('http://g/metrics'))).text();
    expect(text).not.toContain('permission_denied');
    expect(text).not.toContain('secret-model');
    expect(text).toMatch(/llm_requests_total\{model="unknown",status="model_not_found",tenant="acme"\} 1/);
  });
});

describe("router errors and explain do not name deployments outside the tenant's allow-list", () => {
  it('the refusal of `auto` (a 400: no model of the tenant has tools) lists only the tenant\'s own candidates', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock', {}, { capabilities: ['chat'] }), mockModel('secret-model', {}, { capabilities: ['chat', 'tools'] })] });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', allowedModels: ['mock'] });
      const key = await h.stores!.tenants.createKey('acme', { name: 'test' });
      const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'hi' }], tools }, { authorization: `Bearer ${key.secret}` });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'unsupported', param: 'tools' } });
      expect(text).toContain('mock: lacks capabilities: tools');
      expect(text).not.toContain('secret-model');
    } finally {
      await h.close();
    }
  });
});

describe('checkFallbacks: per-call fallbacks', () => {
  const wide = { ...ANONYMOUS, tenantId: 'acme', tenant: { allowedModels: ['mock', 'grouped', 'off', 'cas'] } } as unknown as Principal;
  const cascade = deployment('cas', { cascade: { weak: 'mock', strong: 'grouped', verifier: 'arithmetic', threshold: 1, onStrongFailure: 'error' } });
  const withCascade = [...all, cascade];

  function fallbackError(fallbacks: string[]): LLMError {
    try {
      checkFallbacks(fallbacks, withCascade, wide);
    } catch (e) {
      expect(LLMError.isInstance(e)).toBe(true);
      return e as LLMError;
    }
    throw new Error(`expected ${JSON.stringify(fallbacks)} to be refused`);
  }

  it('a model or alias the caller may use is accepted, a disabled one too (the router skips it while disabled)', () => {
    expect(() => checkFallbacks(['team-alias', 'mock', 'off'], withCascade, wide)).not.toThrow();
  });

  it('an unknown or not-allowed name is a 400 naming its index, with one message for both', () => {
    const errors = [['no-such-model'], ['mock', 'secret-model']].map(fallbackError);
    expect(errors.map((e) => [e.code, e.statusCode, e.param])).toEqual([
      ['invalid_request', 400, 'llmrr.fallbacks.0'],
      ['invalid_request', 400, 'llmrr.fallbacks.1'],
    ]);
    expect(errors[1]!.message).toBe('llmrr.fallbacks.1: unknown model "secret-model"');
    expect(fallbackError(['x'.repeat(5000)]).message.length).toBeLessThan(200);
  });

  it('a cascade is not a fallback', () => {
    expect(fallbackError(['cas'])).toMatchObject({ code: 'invalid_request', param: 'llmrr.fallbacks.0', message: 'llmrr.fallbacks.0: "cas" is a cascade; fallbacks must name models' });
  });
});

describe('isAllowed: cascades', () => {
  const cascade = deployment('cas', { cascade: { weak: 'mock', strong: 'team-alias', verifier: 'arithmetic', threshold: 1, onStrongFailure: 'error' } });
  const list = [...all, cascade];
  it('an allow-list must name the cascade and both of its models (by name or alias)', () => {
    expect(isAllowed(cascade, ['cas'], list)).toBe(false);
    expect(isAllowed(cascade, ['cas', 'mock'], list)).toBe(false);
    expect(isAllowed(cascade, ['cas', 'mock', 'grouped'], list)).toBe(true);
    expect(isAllowed(cascade, ['cas', 'mock', 'team-alias'], list)).toBe(true);
    expect(isAllowed(cascade, undefined, list)).toBe(true);
  });

  it('auto: the candidates (and so the budget reservation) leave cascades out', () => {
    expect(resolveModel('auto', list, ANONYMOUS).candidates.map((d) => d.name)).toEqual(['mock', 'secret-model', 'grouped']);
  });

  it('a tenant allowed the cascade alone does not see it, and asking for it is the uniform 404', () => {
    const only = { ...ANONYMOUS, tenantId: 'acme', tenant: { allowedModels: ['cas'] } } as unknown as Principal;
    expect(visibleDeployments(list, only)).toEqual([]);
    let error: unknown;
    try {
      resolveModel('cas', list, only);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });
});
