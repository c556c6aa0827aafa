/**
 * The tenants a v3 config lists are declarative: each start of the server creates the missing ones and sets
 * the others to what the config states (name, tier, preferences, allow-list, limits, budget, models; a field
 * the config leaves out is cleared), logging one line per tenant changed. Tenants the config does not list
 * (created through the admin API, or removed from the config) and a tenant's `disabled` flag are left alone.
 * Each creation and change is audited (actor `config-file`), and a config tenant deleted through the admin API
 * is not created again under its retired id.
 * Two processes starting at once on a fresh database both see a tenant missing: the one whose create
 * conflicts goes on as if it existed.
 */
import { createStateStores, engineFactory, LLMRouter, parseConfig, type EngineFactory, type StateStores, type TenantStore } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import type { GatewayLogEntry } from '@llmrr/gateway';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_TENANT_ID, seedTenants } from './seed-tenants.js';
import { readSettings } from './settings.js';
import { startServer } from './start-server.js';
import { adminCall, gatewaySetup, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const yamlConfig = (amountUsd: number, rpm: number) =>
  `version: 3\nmodels:\n  - name: shared-mock\n    engine: mock\ntenants:\n  - id: acme\n    name: Acme\n    limits: { rpm: ${rpm} }\n    budget: { amountUsd: ${amountUsd}, period: month }\n    models:\n      - name: acme-mock\n        engine: mock\n        apiKey: sk-acme-mock\n        headers: { x-b: tok-acme, x-a: plain }\n`;

const v3 = (tenants: unknown[]) => parseConfig({ version: 3, models: [{ name: 'shared-mock', engine: 'mock' }], tenants });

describe('config tenants on start', () => {
  it('a restart applies the budget and limits changed in llmrr.config.yaml (embedded state under the data dir)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-seed-'));
    try {
      const env = { PORT: '0', LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_DEMO: 'false' };
      writeFileSync(join(dir, 'llmrr.config.yaml'), yamlConfig(50, 600));
      const first = await startServer(readSettings(env, dir), () => {});
      expect((await first.stores.tenants.getTenant('acme'))?.budget?.amountUsd).toBe(50);
      await first.close(500);

      // The operator lowers the tenant's budget and rate limit in the config and restarts.
      writeFileSync(join(dir, 'llmrr.config.yaml'), yamlConfig(5, 5));
      const logs: GatewayLogEntry[] = [];
      const second = await startServer(readSettings(env, dir), (e) => logs.push(e));
      try {
        const tenant = await second.stores.tenants.getTenant('acme');
        // The gateway admits and bills against the stored tenant: the config's new values are there.
        expect({ budget: tenant?.budget?.amountUsd, rpm: tenant?.limits?.rpm, models: tenant?.models?.map((m) => m.name) }).toEqual({ budget: 5, rpm: 5, models: ['acme-mock'] });
        // One line for the tenant, naming what changed (its models, stored redacted and read back from SQLite, compare
        // equal: a restart does not write them again).
        expect(logs.filter((e) => e.message.startsWith('tenant '))).toEqual([{ level: 'info', message: `tenant "acme" set to the config (${join(dir, 'llmrr.config.yaml')}): limits, budget` }]);
      } finally {
        await second.close(500);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a budget period changed in the config (month -> day) starts the new day at the ledger's spend of today, as the admin API does", async () => {
    const stores = await createStateStores({ mode: 'memory' });
    try {
      const seed = (budget: unknown) => seedTenants(stores, v3([{ id: 'acme', name: 'Acme', ...(budget ? { budget } : {}) }]), { demo: false, source: 'llmrr.config.yaml', log: () => {} });
      await seed({ amountUsd: 10, period: 'month' });
      // $9 spent today (its ledger row; the month's counter holds it too).
      await stores.ledger.record({ requestId: 'r1', tenantId: 'acme', model: 'shared-mock', inputTokens: 1, outputTokens: 1, costUsd: 9, latencyMs: 1, status: 'success', createdAt: Date.now() });
      expect((await stores.budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 10, estimateUsd: 9, reservationId: 'r1' })).ok).toBe(true);
      await stores.budgets.settle('r1', 9);

      await seed({ amountUsd: 10, period: 'day' });
      expect((await stores.tenants.getTenant('acme'))?.budget).toEqual({ amountUsd: 10, period: 'day' });
      const day = await stores.budgets.spent('acme', 'day');
      expect((await stores.ledger.summary({ tenantId: 'acme', from: day.periodStart })).costUsd).toBe(9);
      expect(day.spentUsd).toBe(9);

      // Removed from the config, then set again with another period: the week starts at the ledger's spend too.
      await seed(undefined);
      expect((await stores.tenants.getTenant('acme'))?.budget).toBeUndefined();
      await seed({ amountUsd: 10, period: 'week' });
      const week = await stores.budgets.spent('acme', 'week');
      expect(week.spentUsd).toBe((await stores.ledger.summary({ tenantId: 'acme', from: week.periodStart })).costUsd);
      expect(week.spentUsd).toBeGreaterThanOrEqual(9);
    } finally {
      await stores.close();
    }
  });

  it('tenant.create records a model list past 4096 characters of JSON by its SHA-256 and length, as the admin API does', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    try {
      const models = Array.from({ length: 3000 }, (_, i) => ({ name: `model-${i}`, engine: 'mock' }));
      await seedTenants(stores, v3([{ id: 'many', models }]), { demo: false, source: 'llmrr.config.yaml', log: () => {} });
      const [entry] = await stores.audit.list({ actor: 'config-file', action: 'tenant.create', target: 'many' });
      expect(JSON.stringify(entry!.details).length).toBeLessThan(1024);
      const names = JSON.stringify(models.map((m) => m.name));
      expect(entry!.details?.models).toEqual({ sha256: createHash('sha256').update(names, 'utf8').digest('hex'), length: names.length });
    } finally {
      await stores.close();
    }
  });

  it('undoes admin changes to config tenants, clears what the config leaves out, and leaves other tenants and `disabled` alone', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const logs: GatewayLogEntry[] = [];
    const seed = (config: ReturnType<typeof v3>) => seedTenants(stores, config, { demo: false, source: 'llmrr.config.yaml', log: (e) => logs.push(e) });
    try {
      const acme = { id: 'acme', name: 'Acme', tier: 'pro', allowedModels: ['shared-mock'], preferences: { strategy: 'cost' }, limits: { rpm: 60 }, budget: { amountUsd: 10, period: 'month' }, models: [{ name: 'acme-mock', engine: 'mock' }] };
      await seed(v3([acme, { id: 'beta' }]));
      expect(logs).toEqual([]);
      expect(await stores.tenants.getTenant('acme')).toMatchObject({ name: 'Acme', tier: 'pro', allowedModels: ['shared-mock'], limits: { rpm: 60 }, budget: { amountUsd: 10, period: 'month' }, disabled: false });
      expect(await stores.tenants.getTenant('beta')).toMatchObject({ name: 'beta', tier: 'basic', preferences: {} });

      // Through the admin API: a config tenant changed and disabled, a tenant of its own.
      await stores.tenants.updateTenant('acme', { name: 'Renamed', tier: 'enterprise', limits: { rpm: 1 }, models: null, disabled: true });
      await stores.tenants.createTenant({ id: 'admin-made', name: 'Admin made', limits: { rpm: 7 } });

      // Next start: the config no longer lists beta and no longer gives acme a budget.
      const { budget: _dropped, ...acmeWithoutBudget } = acme;
      await seed(v3([acmeWithoutBudget]));
      const after = await stores.tenants.getTenant('acme');
      expect(after).toMatchObject({ name: 'Acme', tier: 'pro', limits: { rpm: 60 }, preferences: { strategy: 'cost' }, allowedModels: ['shared-mock'], disabled: true });
      expect(after?.models?.map((m) => m.name)).toEqual(['acme-mock']);
      expect(after?.budget).toBeUndefined();
      expect(logs.map((e) => e.message)).toEqual(['tenant "acme" set to the config (llmrr.config.yaml): name, tier, limits, budget, models']);
      expect(await stores.tenants.getTenant('beta')).toMatchObject({ id: 'beta' });
      expect(await stores.tenants.getTenant('admin-made')).toMatchObject({ name: 'Admin made', limits: { rpm: 7 } });

      // Unchanged config: no write, no log line.
      logs.length = 0;
      await seed(v3([acmeWithoutBudget]));
      expect(logs).toEqual([]);
      expect((await stores.tenants.getTenant('acme'))?.updatedAt).toBe(after?.updatedAt);

      // Each creation and change is in the audit log, as an admin change would be, by the config file.
      const audited = await stores.audit.list({ actor: 'config-file' });
      expect(audited.map((e) => ({ action: e.action, target: e.target, details: e.details }))).toEqual([
        { action: 'tenant.create', target: 'acme', details: { source: 'llmrr.config.yaml', name: 'Acme', tier: 'pro', models: ['acme-mock'] } },
        { action: 'tenant.create', target: 'beta', details: { source: 'llmrr.config.yaml', name: 'beta', tier: 'basic' } },
        {
          action: 'tenant.update',
          target: 'acme',
          details: {
            source: 'llmrr.config.yaml',
            fields: ['name', 'tier', 'limits', 'budget', 'models'],
            // The new values, as an admin change records them (a field cleared: null; models by name and engine).
            changes: { name: 'Acme', tier: 'pro', limits: { rpm: 60 }, budget: null, models: [{ name: 'acme-mock', engine: 'mock' }] },
          },
        },
      ]);
      expect((await stores.audit.verify()).ok).toBe(true);
    } finally {
      await stores.close();
    }
  });

  it('a budget lowered in the config is recorded with its new amount (details.changes.budget), like an admin change', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const seed = (config: ReturnType<typeof v3>) => seedTenants(stores, config, { demo: false, source: 'llmrr.config.yaml', log: () => {} });
    try {
      await seed(v3([{ id: 'acme', name: 'Acme', budget: { amountUsd: 50, period: 'month' } }]));
      await seed(v3([{ id: 'acme', name: 'Acme', budget: { amountUsd: 5, period: 'month' } }]));
      expect((await stores.tenants.getTenant('acme'))?.budget?.amountUsd).toBe(5);
      const [update] = await stores.audit.list({ actor: 'config-file', action: 'tenant.update' });
      expect(update?.details).toEqual({ source: 'llmrr.config.yaml', fields: ['budget'], changes: { budget: { amountUsd: 5, period: 'month' } } });
    } finally {
      await stores.close();
    }
  });

  it('two processes starting at once on a fresh database: the one whose create conflicts goes on (config and demo tenants)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-seed-race-'));
    const opened: StateStores[] = [];
    try {
      // Two processes' stores on one SQLite database.
      for (let i = 0; i < 2; i++) opened.push(await createStateStores({ mode: 'embedded', dataDir: dir }));
      const [a, b] = bothSeeMissingFirst(opened[0]!.tenants, opened[1]!.tenants);
      const config = v3([{ id: 'acme', name: 'Acme', limits: { rpm: 60 } }]);
      const logs: GatewayLogEntry[] = [];
      const options = { demo: true, source: 'llmrr.config.yaml', log: (e: GatewayLogEntry) => logs.push(e) };
      await Promise.all([seedTenants({ ...opened[0]!, tenants: a }, config, options), seedTenants({ ...opened[1]!, tenants: b }, config, options)]);
      expect(await opened[1]!.tenants.getTenant('acme')).toMatchObject({ name: 'Acme', limits: { rpm: 60 } });
      expect(await opened[0]!.tenants.getTenant(DEMO_TENANT_ID)).toMatchObject({ id: DEMO_TENANT_ID });
      // Both wrote the same config: nothing to set after the conflict.
      expect(logs).toEqual([]);
    } finally {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The race, made certain: each store's `getTenant` of an id answers only once the other store has read the
 * same id, so both processes see every tenant missing before either creates it.
 */
function bothSeeMissingFirst(a: TenantStore, b: TenantStore): [TenantStore, TenantStore] {
  const reads = new Map<string, { count: number; both: Promise<void>; release: () => void }>();
  const gate = (id: string) => {
    let r = reads.get(id);
    if (!r) {
      let release!: () => void;
      const both = new Promise<void>((done) => (release = done));
      r = { count: 0, both, release };
      reads.set(id, r);
    }
    return r;
  };
  const wrap = (store: TenantStore, seen: Set<string>): TenantStore =>
    Object.assign(Object.create(store) as TenantStore, {
      getTenant: async (id: string) => {
        const tenant = await store.getTenant(id);
        if (seen.has(id)) return tenant;
        seen.add(id);
        const r = gate(id);
        if (++r.count === 2) r.release();
        await r.both;
        return tenant;
      },
      createTenant: store.createTenant.bind(store),
      updateTenant: store.updateTenant.bind(store),
    });
  return [wrap(a, new Set()), wrap(b, new Set())];
}

describe('a config tenant deleted through the admin API', () => {
  const ADMIN = 'admin-secret-for-tests-0123456789';
  const config = 'version: 3\nmodels:\n  - name: shared-mock\n    engine: mock\ntenants:\n  - id: acme\n    name: Acme\n    budget: { amountUsd: 5, period: month }\n';

  it('is not created again under its retired id by the next start (it would inherit the deleted tenant\'s usage and budget spend): a warning names it, the server starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-seed-deleted-'));
    try {
      const env = { PORT: '0', LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_DEMO: 'false', LLMRR_ADMIN_KEY: ADMIN };
      writeFileSync(join(dir, 'llmrr.config.yaml'), config);
      const first = await startServer(readSettings(env, dir), () => {});
      try {
        expect(await first.stores.tenants.getTenant('acme')).toMatchObject({ id: 'acme' });
        const res = await first.gateway.fetch(new Request('http://gateway.test/admin/tenants/acme', { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } }));
        expect(res.status).toBe(200);
        // The admin API itself refuses the id (409 tenant_id_in_use).
        const again = await first.gateway.fetch(
          new Request('http://gateway.test/admin/tenants', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'acme', name: 'Acme' }) }),
        );
        expect(again.status).toBe(409);
      } finally {
        await first.close(500);
      }

      // Restart with the same config: the id stays retired, and the log says what to do.
      const logs: GatewayLogEntry[] = [];
      const second = await startServer(readSettings(env, dir), (e) => logs.push(e));
      try {
        expect(await second.stores.tenants.getTenant('acme')).toBeUndefined();
        expect(logs.filter((e) => e.message.startsWith('tenant '))).toEqual([
          {
            level: 'warn',
            message: `tenant "acme" (${join(dir, 'llmrr.config.yaml')}) is not created: the id belonged to a deleted tenant and is retired (its usage records and budget spend stay under it); rename or remove the tenant in the config`,
          },
        ]);
        expect(await second.stores.audit.list({ actor: 'config-file', action: 'tenant.create', target: 'acme' })).toHaveLength(1);
      } finally {
        await second.close(500);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A config tenant's model keys stay out of the tenant store: the router serves a config tenant's models from the
 * config itself, so the stored copy (what `GET /admin/tenants/:id` shows) holds them as `[redacted]`, `apiKey` and
 * `headers` values alike. A key given as `${VAR}` ("keys stay out of files") used to be written in clear into
 * `.data/llmrr.db` (PostgreSQL's tenants table in shared mode) and answered by the admin API.
 */
describe("a v3 config tenant model's key given as ${VAR}", () => {
  const ADMIN = 'admin-secret-for-tests-0123456789';
  const SECRET = 'sk-live-config-tenant-4f9c2a7e1b3d5f60';
  let wire: OpenAIWireServer | undefined;
  let g: Gateway | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await stopGateway(g);
    await wire?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is neither answered by the admin API nor written to the data directory; the model is called with it (a server process)', async () => {
    wire = await startOpenAIWireServer();
    const config = {
      version: 3,
      models: [{ name: 'mock', engine: 'mock' }],
      routing: { strategy: 'priority' },
      tenants: [{ id: 'acme', models: [{ name: 'own', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x', apiKey: '${CONFIG_TENANT_KEY}', headers: { 'x-upstream-token': '${CONFIG_TENANT_KEY}' } }] }],
    };
    const setup = gatewaySetup(config, 'embedded', ADMIN, 'llmrr-gw-seed-secret-');
    dir = setup.dir;
    g = await startGateway('gateway', { ...setup.env, CONFIG_TENANT_KEY: SECRET });
    const tenant = await adminCall<{ models: Array<Record<string, unknown>> }>(g, ADMIN, 'GET', '/admin/tenants/acme', undefined, 200);
    expect(tenant.models).toMatchObject([{ name: 'own', apiKey: '[redacted]', headers: { 'x-upstream-token': '[redacted]' } }]);
    const { secret } = await adminCall<{ secret: string }>(g, ADMIN, 'POST', '/admin/tenants/acme/keys', { name: 'k' }, 201);
    const answer = await new OpenAI({ baseURL: `${g.url}/v1`, apiKey: secret, maxRetries: 0 }).chat.completions.create({ model: 'own', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    expect(wire.requests.map((r) => [r.headers.authorization, r.headers['x-upstream-token']])).toEqual([[`Bearer ${SECRET}`, SECRET]]);
    await stopGateway(g);
    g = undefined;
    const dataDir = join(dir, 'data');
    expect(readdirSync(dataDir).filter((f) => readFileSync(join(dataDir, f)).includes(SECRET))).toEqual([]);
  }, 120_000);

  it('a copy stored with the key (an earlier version) is written over by the next start', async () => {
    const stores = await createStateStores({ mode: 'memory' });
    try {
      const model = { name: 'own', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET };
      await stores.tenants.createTenant({ id: 'acme', name: 'acme', models: [model] });
      const logs: GatewayLogEntry[] = [];
      await seedTenants(stores, v3([{ id: 'acme', models: [model] }]), { demo: false, source: 'llmrr.config.yaml', log: (e) => logs.push(e) });
      expect((await stores.tenants.getTenant('acme'))?.models).toMatchObject([{ name: 'own', apiKey: '[redacted]' }]);
      expect(JSON.stringify(await stores.tenants.getTenant('acme'))).not.toContain(SECRET);
      expect(logs.map((e) => e.message)).toEqual(['tenant "acme" set to the config (llmrr.config.yaml): models']);
      // Stored so, the next start changes nothing.
      await seedTenants(stores, v3([{ id: 'acme', models: [model] }]), { demo: false, source: 'llmrr.config.yaml', log: (e) => logs.push(e) });
      expect(logs).toHaveLength(1);
    } finally {
      await stores.close();
    }
  });

  // An engine of the server's router's own (`RouterOptions.engineFactories`, not registered with `registerEngine`) that
  // takes a credential under a name no rule knows declares it (`secretOptions`): the stored copy has it redacted too.
  it("an option the router's own engine declares secret is stored redacted", async () => {
    const stores = await createStateStores({ mode: 'memory' });
    const mock = engineFactory('mock')!;
    const vault: EngineFactory = Object.assign((m: Parameters<EngineFactory>[0], ctx: Parameters<EngineFactory>[1]) => mock({ ...m, options: {} }, ctx), { secretOptions: ['backend.target'] });
    const config = v3([{ id: 'acme', models: [{ name: 'own', engine: 'vault-seed', options: { backend: { target: SECRET, region: 'eu' } } }] }]);
    const router = new LLMRouter(config, { engineFactories: { 'vault-seed': vault } });
    try {
      expect(engineFactory('vault-seed')).toBeUndefined();
      await seedTenants(stores, config, { demo: false, source: 'llmrr.config.yaml', log: () => {}, router });
      const stored = await stores.tenants.getTenant('acme');
      expect(stored?.models?.map((m) => m.options)).toEqual([{ backend: { target: '[redacted]', region: 'eu' } }]);
      expect(JSON.stringify(stored)).not.toContain(SECRET);
    } finally {
      await router.close();
      await stores.close();
    }
  });

  // The README: a tenant removed from the config stays in the store (its keys work). It is then served from the
  // stored copy, whose secrets are the placeholder: never sent upstream as a credential (it was
  // `Authorization: Bearer [redacted]`, a 502 and a log naming nothing useful), and the model is never called without
  // them (it was, with no key: the provider's 401): each call is a 503 naming what to set; the log names the fields.
  it('removed from the config, its stored copy calls nothing without its secrets (503 naming them); the log names the fields', async () => {
    const upstream = await startOpenAIWireServer({ script: (r) => (r.headers.authorization === `Bearer ${SECRET}` ? { text: 'hello' } : { error: { status: 401, message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }) });
    const tmp = mkdtempSync(join(tmpdir(), 'llmrr-gw-seed-removed-'));
    try {
      const env = { PORT: '0', LLMRR_DATA_DIR: join(tmp, 'data'), LLMRR_DEMO: 'false', LLMRR_ADMIN_KEY: ADMIN };
      const own = { name: 'own', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'x', apiKey: SECRET, headers: { 'x-upstream-token': SECRET } };
      const config = (tenants: unknown[]) => JSON.stringify({ version: 3, models: [{ name: 'mock', engine: 'mock' }], routing: { strategy: 'priority' }, tenants });
      writeFileSync(join(tmp, 'llmrr.config.json'), config([{ id: 'acme', models: [own] }]));
      const first = await startServer(readSettings(env, tmp), () => {});
      let secret: string;
      try {
        secret = (await first.stores.tenants.createKey('acme', { name: 'k' })).secret;
      } finally {
        await first.close(500);
      }

      writeFileSync(join(tmp, 'llmrr.config.json'), config([{ id: 'other' }]));
      const logs: string[] = [];
      const second = await startServer(readSettings(env, tmp), (e) => logs.push(e.message));
      try {
        expect((await second.stores.tenants.getTenant('acme'))?.models?.[0]).toMatchObject({ apiKey: '[redacted]', headers: { 'x-upstream-token': '[redacted]' } });
        const body = JSON.stringify({ model: 'own', messages: [{ role: 'user', content: 'hi' }] });
        const chat = () => second.gateway.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body }));
        for (let i = 0; i < 2; i++) {
          const res = await chat();
          expect({ status: res.status, error: ((await res.json()) as { error?: unknown }).error }).toMatchObject({
            status: 503,
            error: { code: 'no_deployment', message: expect.stringContaining('Model "own" cannot be called until its apiKey (or apiKeyEnv), headers.x-upstream-token are set') },
          });
        }
        expect(upstream.requests).toEqual([]);
        expect(logs.filter((m) => m.includes('[redacted]'))).toEqual([
          'tenant "acme": models.0.apiKey, models.0.headers.x-upstream-token are "[redacted]" in the tenant store (as a v3 config\'s tenant is stored; the config no longer lists it): never sent upstream; calls of "own" fail naming what to set until it is set; set them through the admin API (PATCH /admin/tenants/acme with its models)',
        ]);
      } finally {
        await second.close(500);
      }
    } finally {
      await upstream.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 120_000);
});
