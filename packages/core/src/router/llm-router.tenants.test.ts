/**
 * Tenants at runtime: `setTenant` / `removeTenant` (own models only the tenant sees, allow-list,
 * preferred strategy), the `unknownTenant` policy, and the exact cache over a tenant's changing models.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import type { EngineFactory } from '../engines/types.js';
import { LLMError } from '../errors/llm-error.js';
import { rejection } from '../test/async.test-helpers.js';
import { startOpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';
import type { RouterOptions } from './types.js';

const shared: RouterConfigInput['models'] = [
  { name: 'shared-1', engine: 'mock', priority: 2, options: { reply: 'shared one' } },
  { name: 'shared-2', engine: 'mock', priority: 3, options: { reply: 'shared two' } },
];

/** A tenant's own mock model answering `reply`. */
const own = (name: string, reply: string, extra: Partial<ModelConfigInput> = {}): ModelConfigInput => ({ name, engine: 'mock', priority: 1, options: { reply }, ...extra });

/** The `counted` engine kind: mocks that record which of them were created and closed. */
function countedEngines() {
  const created: string[] = [];
  const closed: string[] = [];
  const factory: EngineFactory = (model) => {
    const label = `${model.name}:${(model.options as MockEngineOptions | undefined)?.reply ?? ''}`;
    created.push(label);
    return Object.assign(new MockEngine(model.options as MockEngineOptions), {
      close: async () => {
        closed.push(label);
      },
    });
  };
  return { created, closed, engineFactories: { counted: factory } };
}

function v2(options: RouterOptions = {}, cache = false): LLMRouter {
  return new LLMRouter({ models: shared, routing: { strategy: 'priority' }, cache: { exact: { enabled: cache } } }, options);
}

const names = (r: LLMRouter, tenant?: string) => r.models(tenant).map((m) => m.name);

describe('LLMRouter.setTenant', () => {
  it("serves a tenant its own models, which no other tenant can see, name, or reach through ranking or fallbacks", async () => {
    const router = v2().setTenant({ id: 'acme', models: [own('acme-llm', 'acme private')] });
    expect(names(router, 'acme')).toEqual(['shared-1', 'shared-2', 'acme-llm']);
    expect(names(router, 'beta')).toEqual(['shared-1', 'shared-2']);
    expect(names(router)).toEqual(['shared-1', 'shared-2']);

    const mine = await router.generate('hi', { tenant: 'acme', model: 'acme-llm' });
    expect([mine.deployment, mine.text]).toEqual(['acme-llm', 'acme private']);
    // It ranks first for its tenant (priority 1), and for no one else.
    expect((await router.generate('hi', { tenant: 'acme' })).text).toBe('acme private');
    expect((await router.generate('hi', { tenant: 'beta' })).text).toBe('shared one');
    expect((await router.generate('hi')).text).toBe('shared one');
    expect((await router.route('hi', { tenant: 'beta' })).order).toEqual(['shared-1', 'shared-2']);
    const denied = await rejection(router.generate('hi', { tenant: 'beta', model: 'acme-llm' }));
    expect(denied).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(denied.message).toMatch(/Known: shared-1, shared-2$/);
    expect((await rejection(router.generate('hi', { model: 'acme-llm' }))).code).toBe('model_not_found');
    // Nor a fallback: the name is unknown to beta, as the model is (refused, not skipped unseen).
    const fb = await rejection(router.route('hi', { tenant: 'beta', model: 'shared-1', fallbacks: ['acme-llm'] }));
    expect(fb).toMatchObject({ code: 'invalid_request', param: 'fallbacks.0' });
    expect(fb.message).toMatch(/Known: shared-1, shared-2$/);
    // Streams and embeddings see the same view.
    const parts: string[] = [];
    for await (const p of router.stream('hi', { tenant: 'acme', model: 'acme-llm' })) if (p.type === 'text-delta') parts.push(p.delta);
    expect(parts.join('')).toBe('acme private');
    expect((await router.embed('x', { tenant: 'acme', model: 'acme-llm' })).deployment).toBe('acme-llm');
  });

  it("an own model shadows a shared one of its name; the allow-list limits the shared ones; the tenant's strategy applies", async () => {
    const router = v2().setTenant({
      id: 'acme',
      allowedModels: ['shared-2'],
      preferences: { strategy: 'quality-first' },
      models: [own('shared-1', 'acme shadow', { quality: 0.1 }), own('extra', 'acme extra', { quality: 0.9 })],
    });
    expect(names(router, 'acme')).toEqual(['shared-2', 'shared-1', 'extra']);
    expect((await router.generate('hi', { tenant: 'acme', model: 'shared-1' })).text).toBe('acme shadow');
    const d = await router.route('hi', { tenant: 'acme' });
    expect(d.strategy).toBe('quality-first');
    expect(d.selected).toBe('extra');
    expect((await router.generate('hi', { tenant: 'other', model: 'shared-1' })).text).toBe('shared one');
    // Shared deployments loaded later show up in the view, filtered by the allow-list.
    router.load([{ name: 'later', engine: 'mock' }]);
    expect(names(router, 'acme')).toEqual(['shared-2', 'shared-1', 'extra']);
    router.setTenant({ id: 'acme', models: [own('extra', 'acme extra', { quality: 0.9 })] });
    expect(names(router, 'acme')).toEqual(['shared-1', 'shared-2', 'later', 'extra']);
  });

  it('validates with the tenant schema, naming the field, and leaves the router as it was', async () => {
    const router = v2().setTenant({ id: 'acme', models: [own('a', 'kept')] });
    const cases: Array<[unknown, string]> = [
      [{ models: [] }, 'id'],
      [{ id: '' }, 'id'],
      [{ id: 'acme', tier: 'gold' }, 'tier'],
      [{ id: 'acme', models: [own('a', 'x'), { name: 'b', engine: 'warp-drive' }] }, 'models.1.engine'],
      [{ id: 'acme', models: [own('a', 'x'), own('a', 'y')] }, 'models.1.name'],
      [{ id: 'acme', models: [{ name: 'p', engine: 'mock', price: { input: -1, output: 0 } }] }, 'models.0.price.input'],
      [{ id: 'acme', surprise: true }, 'surprise'],
      [{ id: 'acme', models: [{ name: 'm', engine: 'mock', typo: 1 }] }, 'models.0.typo'],
      // The gateway's routing names (`ROUTING_MODEL_NAMES`): a model so named or aliased could never be reached.
      [{ id: 'acme', models: [own('auto', 'x')] }, 'models.0.name'],
      [{ id: 'acme', models: [own('a', 'x'), own('b', 'y', { alias: 'llmrr/auto' })] }, 'models.1.alias'],
    ];
    for (const [input, param] of cases) {
      let err: unknown;
      try {
        router.setTenant(input as Parameters<LLMRouter['setTenant']>[0]);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(input)).toMatchObject({ code: 'config_invalid', param });
    }
    expect(names(router, 'acme')).toEqual(['shared-1', 'shared-2', 'a']);
    expect((await router.generate('hi', { tenant: 'acme', model: 'a' })).text).toBe('kept');
  });

  it('a replaced tenant keeps unchanged models (same engine), closes changed and dropped ones; removeTenant closes the rest', async () => {
    const { created, closed, engineFactories } = countedEngines();
    const router = v2({ engineFactories });
    const m = (name: string, reply: string) => ({ name, engine: 'counted', options: { reply } });
    router.setTenant({ id: 't', models: [m('same', 'one'), m('changes', 'v1'), m('goes', 'bye')] });
    for (const model of ['same', 'changes', 'goes']) await router.generate('hi', { tenant: 't', model });
    expect(created).toEqual(['same:one', 'changes:v1', 'goes:bye']);

    // The same config, written with another key order, is the same model.
    router.setTenant({ id: 't', models: [{ options: { reply: 'one' }, engine: 'counted', name: 'same' }, m('changes', 'v2')] });
    expect((await router.generate('hi', { tenant: 't', model: 'changes' })).text).toBe('v2');
    expect((await router.generate('hi', { tenant: 't', model: 'same' })).text).toBe('one');
    expect((await rejection(router.generate('hi', { tenant: 't', model: 'goes' }))).code).toBe('model_not_found');
    await Promise.resolve();
    expect(created).toEqual(['same:one', 'changes:v1', 'goes:bye', 'changes:v2']);
    expect(closed.sort()).toEqual(['changes:v1', 'goes:bye']);

    expect(router.removeTenant('t')).toBe(true);
    expect(router.removeTenant('t')).toBe(false);
    await Promise.resolve();
    expect(closed.sort()).toEqual(['changes:v1', 'changes:v2', 'goes:bye', 'same:one']);
    // A v2 router serves a tenant it does not know the shared models.
    expect(names(router, 't')).toEqual(['shared-1', 'shared-2']);
    expect((await rejection(router.generate('hi', { tenant: 't', model: 'same' }))).code).toBe('model_not_found');
    await router.close();
  });

  it('an own model named like an Object.prototype member ("constructor") is built and served as any other', async () => {
    const router = v2({ engines: { 'shared-1': new MockEngine({ reply: 'given engine' }) } });
    router.setTenant({ id: 'acme', models: [own('constructor', 'acme ctor'), own('__proto__', 'acme proto')] });
    expect((await router.generate('hi', { tenant: 'acme', model: 'constructor' })).text).toBe('acme ctor');
    expect((await router.generate('hi', { tenant: 'acme', model: '__proto__' })).text).toBe('acme proto');
    expect((await router.generate('hi', { model: 'shared-1' })).text).toBe('given engine');
    const stats = new LLMRouter({ models: [{ name: '__proto__', engine: 'mock' }] }).stats();
    expect(Object.hasOwn(stats, '__proto__') && Object.getPrototypeOf(stats) === Object.prototype).toBe(true);
    await router.close();
  });

  it("with useEnv: false, own models read only the variable their apiKeyEnv names (no preset's key) and get no pre-built engine", async () => {
    const wire = await startOpenAIWireServer();
    try {
      const env = { VLLM_API_KEY: 'server-marker', OPENAI_API_KEY: 'server-marker' };
      const router = v2({ env, engines: { brought: new MockEngine({ reply: 'operator engine' }) } });
      const models = [
        { name: 'vllm', engine: 'openai-compatible', preset: 'vllm', baseURL: wire.baseURL, model: 'm' },
        { name: 'brought', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'm', apiKey: 'tenant-key' },
      ];
      router.setTenant({ id: 'acme', models }, { useEnv: false });
      await router.generate('hi', { tenant: 'acme', model: 'vllm' });
      expect((await router.generate('hi', { tenant: 'acme', model: 'brought' })).text).toBe('echo: hi');
      // The same models set with the router's environment read it (the default, for the operator's own tenants).
      router.setTenant({ id: 'acme', models });
      await router.generate('hi', { tenant: 'acme', model: 'vllm' });
      expect(wire.requests.map((r) => r.headers.authorization ?? null)).toEqual([null, 'Bearer tenant-key', 'Bearer server-marker']);
      await router.close();
    } finally {
      await wire.close();
    }
  });

  it('with useEnv: false, an apiKeyEnv model reads its variable at each call (a rotated key is seen), and a sync reuses its engine', async () => {
    const wire = await startOpenAIWireServer();
    try {
      const env: Record<string, string | undefined> = { ACME_KEY: 'acme-1', OPENAI_API_KEY: 'server-marker' };
      const { created, engineFactories } = countedEngines();
      const router = v2({ env, engineFactories });
      const models = [
        { name: 'named', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'm', apiKeyEnv: 'ACME_KEY' },
        { name: 'unset', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'm', apiKeyEnv: 'ACME_MISSING' },
        { name: 'none', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'm' },
        own('mine', 'mine', { engine: 'counted', apiKeyEnv: 'ACME_KEY' }),
      ];
      router.setTenant({ id: 'acme', models }, { useEnv: false });
      await router.generate('hi', { tenant: 'acme', model: 'named' });
      env.ACME_KEY = 'acme-2';
      await router.generate('hi', { tenant: 'acme', model: 'named' });
      expect(wire.requests.map((r) => r.headers.authorization)).toEqual(['Bearer acme-1', 'Bearer acme-2']);
      // A variable that is not set is named; without apiKeyEnv the model is told to bring a key, not to set OPENAI_API_KEY.
      expect(await rejection(router.generate('hi', { tenant: 'acme', model: 'unset', fallbacks: [] }))).toMatchObject({
        code: 'authentication',
        message: expect.stringContaining('set the environment variable ACME_MISSING (named by apiKeyEnv of model "unset")'),
      });
      const none = await rejection(router.generate('hi', { tenant: 'acme', model: 'none', fallbacks: [] }));
      expect(none).toMatchObject({ code: 'authentication', message: expect.stringContaining('set apiKey or apiKeyEnv on model "none" (OPENAI_API_KEY is not read for it)') });
      expect(wire.requests).toHaveLength(2);
      // Set again (as each process's sync does): the engines built are kept.
      expect((await router.generate('hi', { tenant: 'acme', model: 'mine' })).text).toBe('mine');
      router.setTenant({ id: 'acme', models }, { useEnv: false });
      expect((await router.generate('hi', { tenant: 'acme', model: 'mine' })).text).toBe('mine');
      await router.generate('hi', { tenant: 'acme', model: 'named' });
      expect(created).toEqual(['mine:mine']);
      expect(wire.requests).toHaveLength(3);
      await router.close();
    } finally {
      await wire.close();
    }
  });

  it('unsetSecrets: each call of such a model fails at once naming the fields (503 no_deployment), nothing sent, no circuit strike; auto goes on', async () => {
    const wire = await startOpenAIWireServer();
    try {
      const router = v2();
      const keyless = { name: 'keyless', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'm', priority: 0 };
      router.setTenant({ id: 'acme', models: [keyless, own('backup', 'from backup', { priority: 1 })] }, { useEnv: false, unsetSecrets: { keyless: ['apiKey'] } });
      for (let i = 0; i < 8; i++) {
        const err = await rejection(router.generate('hi', { tenant: 'acme', model: 'keyless' }));
        expect(err).toMatchObject({ code: 'no_deployment', statusCode: 503, isRetryable: false, deployment: 'keyless', message: 'Model "keyless" cannot be called until its apiKey is set (no request was sent)' });
      }
      expect(router.circuits().find((c) => c.deployment === 'keyless')?.state ?? 'closed').toBe('closed');
      // Listed as any other (auto ranks it first: priority 0); the call falls over to the next model.
      expect(names(router, 'acme')).toContain('keyless');
      expect((await router.generate('hi', { tenant: 'acme' })).text).toBe('from backup');
      // Set again with its key (and no unset field): called with it.
      router.setTenant({ id: 'acme', models: [{ ...keyless, apiKey: 'tenant-key' }] }, { useEnv: false });
      expect((await router.generate('hi', { tenant: 'acme', model: 'keyless' })).text).toBe('echo: hi');
      expect(wire.requests.map((r) => r.headers.authorization ?? null)).toEqual(['Bearer tenant-key']);
      await router.close();
    } finally {
      await wire.close();
    }
  });

  it("a call-time config_invalid of a model a tenant brings (useEnv: false) is a 503 no_deployment naming the model and models.N.path, not the server's path, no strike; the operator's stays config_invalid", async () => {
    const missing = Object.assign(
      (model: ModelConfigInput) => Object.assign(new MockEngine({ reply: 'never' }), { generate: () => Promise.reject(new LLMError({ code: 'config_invalid', message: `GGUF model file not found: /srv/models/${model.path} (model "${model.name}")`, param: 'path' })) }),
      {},
    ) as unknown as EngineFactory;
    const router = v2({ engineFactories: { 'file-engine': missing } });
    const model = { name: 'local', engine: 'file-engine', path: 'gone.gguf' };
    router.setTenant({ id: 'acme', models: [model] }, { useEnv: false });
    router.setTenant({ id: 'ops', models: [model] });
    const brought = await rejection(router.generate('hi', { tenant: 'acme', model: 'local' }));
    // Named by its field, never by a path of the server (a tenant's API key holders read it); the engine's message in `cause`.
    expect(brought).toMatchObject({ code: 'no_deployment', statusCode: 503, isRetryable: false, deployment: 'local', details: { unservableOwnModel: true }, message: 'Model "local" cannot be served: its model file (models.0.path) is missing or not a usable model file; an admin must set the model again' });
    expect((brought as Error).message).not.toMatch(/srv|gone\.gguf/);
    expect(((brought as Error).cause as Error).message).toContain('/srv/models/gone.gguf');
    // Set again at another index (the deployment kept): named at its new place.
    router.setTenant({ id: 'acme', models: [{ name: 'first', engine: 'mock' }, model] }, { useEnv: false });
    expect((await rejection(router.generate('hi', { tenant: 'acme', model: 'local' }))).message).toContain('(models.1.path)');
    // More calls than the circuit's failureThreshold (5): no strike, the circuit stays closed (no upstream failing).
    for (let i = 0; i < 6; i++) expect(await rejection(router.generate('hi', { tenant: 'acme', model: 'local' }))).toMatchObject({ code: 'no_deployment' });
    expect(router.circuits().filter((c) => c.deployment === 'local' && c.tenant === 'acme')).toEqual([{ deployment: 'local', tenant: 'acme', state: 'closed' }]);
    expect(await rejection(router.generate('hi', { tenant: 'ops', model: 'local' }))).toMatchObject({ code: 'config_invalid' });
    await router.close();
  });

  it('close() also closes tenant models', async () => {
    const { closed, engineFactories } = countedEngines();
    const router = v2({ engineFactories }).setTenant({ id: 't', models: [{ name: 'own', engine: 'counted', options: { reply: 'r' } }] });
    await router.generate('hi', { tenant: 't', model: 'own' });
    await router.close();
    expect(closed).toEqual(['own:r']);
    expect(() => router.setTenant({ id: 'u' })).toThrow(/closed/);
  });

  it('the exact cache never serves an answer of a changed own model; an unchanged one keeps its answers', async () => {
    const router = v2({}, true);
    const ask = (model?: string) => router.generate('same question', { tenant: 'acme', ...(model ? { model } : {}) });
    router.setTenant({ id: 'acme', models: [own('mine', 'version one')] });
    expect((await ask('mine')).text).toBe('version one');
    expect((await ask('mine')).cached).toBe('exact');
    expect((await ask()).text).toBe('version one');
    expect((await ask()).cached).toBe('exact');

    router.setTenant({ id: 'acme', models: [own('mine', 'version two')] });
    for (const model of ['mine', undefined]) {
      const fresh = await ask(model);
      expect([fresh.text, fresh.cached]).toEqual(['version two', false]);
    }
    // Back to the first config: its answers are those of that config again.
    router.setTenant({ id: 'acme', models: [own('mine', 'version one')] });
    expect(await ask('mine')).toMatchObject({ text: 'version one', cached: 'exact' });
    // Through an allow-list passed by the caller too.
    router.setTenant({ id: 'acme', models: [own('mine', 'version three')] });
    expect(await router.generate('same question', { tenant: 'acme', allowedModels: ['mine'] })).toMatchObject({ text: 'version three', cached: false });
  });
});

describe('LLMRouter unknownTenant', () => {
  const v3: RouterConfigInput = { version: 3, models: shared, routing: { strategy: 'priority' }, tenants: [{ id: 'known', models: [own('k', 'known own')] }] };

  it("a v3 router rejects tenants it does not know by default; 'shared' serves them the shared models", async () => {
    const strict = new LLMRouter(v3);
    expect(await rejection(strict.generate('hi', { tenant: 'admin-made' }))).toMatchObject({ code: 'invalid_request', param: 'tenant' });
    expect(() => strict.models('admin-made')).toThrow(/Unknown tenant "admin-made"/);
    const open = new LLMRouter(v3, { unknownTenant: 'shared' });
    expect((await open.generate('hi', { tenant: 'admin-made' })).text).toBe('shared one');
    expect(names(open, 'admin-made')).toEqual(['shared-1', 'shared-2']);
    // Known tenants keep their views, and their own models stay theirs.
    expect((await open.generate('hi', { tenant: 'known' })).text).toBe('known own');
    expect((await rejection(open.generate('hi', { tenant: 'admin-made', model: 'k' }))).code).toBe('model_not_found');
  });

  it("models() without a tenant lists the view a call without one plans in (a v3 defaultTenant's); models(null) the shared deployments", async () => {
    const config: RouterConfigInput = { ...v3, tenants: [{ id: 'main', allowedModels: ['shared-2'], models: [own('mine', 'main own')] }], defaultTenant: 'main' };
    const router = new LLMRouter(config);
    try {
      expect(router.models().map((m) => m.name)).toEqual(['shared-2', 'mine']);
      expect((await router.generate('hi')).text).toBe('main own');
      expect((await rejection(router.generate('hi', { model: 'shared-1' }))).code).toBe('model_not_found');
      expect(router.models(null).map((m) => m.name)).toEqual(['shared-1', 'shared-2']);
      // A defaultTenant the router does not know: the shared deployments (the listing never throws).
      const unknown = new LLMRouter({ ...v3, defaultTenant: 'nobody' });
      expect(unknown.models().map((m) => m.name)).toEqual(['shared-1', 'shared-2']);
      await unknown.close();
    } finally {
      await router.close();
    }
  });

  it('a v2 router serves unknown tenants by default, and rejects them when asked to', async () => {
    expect((await v2().generate('hi', { tenant: 'anyone' })).text).toBe('shared one');
    const strict = v2({ unknownTenant: 'reject' }).setTenant({ id: 'acme' });
    expect((await strict.generate('hi', { tenant: 'acme' })).text).toBe('shared one');
    expect((await strict.generate('hi')).text).toBe('shared one');
    expect((await rejection(strict.generate('hi', { tenant: 'anyone' }))).param).toBe('tenant');
    expect(() => v2({ unknownTenant: 'maybe' as 'shared' })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'unknownTenant' }));
  });

  it('setTenant adds to or replaces the tenants of a v3 config (routerConfig follows); removeTenant takes one away', async () => {
    const router = new LLMRouter(v3);
    router.setTenant({ id: 'admin-made', models: [own('mine', 'admin own')] });
    expect((await router.generate('hi', { tenant: 'admin-made' })).text).toBe('admin own');
    router.setTenant({ id: 'known', allowedModels: ['shared-2'] });
    expect(names(router, 'known')).toEqual(['shared-2']);
    const cfg = router.routerConfig;
    expect(cfg.version === 3 && cfg.tenants.map((t) => [t.id, t.models.map((m) => m.name)])).toEqual([
      ['known', []],
      ['admin-made', ['mine']],
    ]);
    expect(router.removeTenant('known')).toBe(true);
    expect((await rejection(router.generate('hi', { tenant: 'known' }))).param).toBe('tenant');
    const after = router.routerConfig;
    expect(after.version === 3 && after.tenants.map((t) => t.id)).toEqual(['admin-made']);
  });

  it('a v3 config with duplicate model names in one tenant is refused, naming the field', () => {
    expect(
      () =>
        new LLMRouter({ ...v3, tenants: [{ id: 't', models: [own('x', 'a'), own('x', 'b')] }] } as RouterConfigInput),
    ).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'tenants.0.models.1.name' }));
    expect(() => new LLMRouter({ ...v3, tenants: [{ id: 't', models: [{ name: 'x', engine: 'warp-drive' }] }] } as RouterConfigInput)).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'tenants.0.models.0.engine' }),
    );
  });

  it("checkTenantStrategies refuses a v3 tenant's unknown preferred strategy, naming the field (else each of its calls fails)", async () => {
    const typo = { ...v3, tenants: [{ id: 'a' }, { id: 'b', preferences: { strategy: 'cost-optimised' } }] } as RouterConfigInput;
    expect(() => new LLMRouter(typo).checkTenantStrategies()).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'tenants.1.preferences.strategy', message: expect.stringContaining('unknown strategy "cost-optimised"') }),
    );
    // A custom strategy given in options.strategies is known from the start, as for routing.strategy.
    const custom = new LLMRouter(typo, { strategies: { 'cost-optimised': (ctx) => ctx.candidates.map((deployment) => ({ deployment })) } });
    custom.checkTenantStrategies();
    expect((await custom.route('hi', { tenant: 'b' })).strategy).toBe('cost-optimised');
    // So is one added with addStrategy after the router was built.
    const added = new LLMRouter(typo).addStrategy('cost-optimised', (ctx) => ctx.candidates.map((deployment) => ({ deployment })));
    added.checkTenantStrategies();
    expect((await added.route('hi', { tenant: 'b' })).strategy).toBe('cost-optimised');
  });
});
