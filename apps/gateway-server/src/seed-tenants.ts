import { canonicalJson, LLMError, type LLMRouter, type RouterConfig, type Tenant, type TenantConfig, type TenantInput, type TenantPatch } from '@llmrr/core';
import { auditValue, budgetPeriodToCarry, carryAfterUpdate, carryBudgetSpend, checkTenantIdUnused, redactModelSecrets, tenantAuditChanges, type GatewayLogEntry, type GatewayStores } from '@llmrr/gateway';

export const DEMO_TENANT_ID = 'demo';

/**
 * The fields of a stored tenant that a v3 config's tenant states (`null`: the config leaves it unset). Its models
 * without their secrets (`apiKey` and `headers` values as `[redacted]`): the router serves a config tenant's models
 * from the config itself, so the stored copy only shows them (admin API), and a key the config takes from the
 * environment (`${VAR}`) never reaches the tenant store. A copy stored with them by an earlier version differs, so
 * the next start writes it over. The options an engine declares secret (`EngineFactory.secretOptions`) are read from
 * the factory the router builds the model with (`router`: its own `engineFactories` too), as the admin API reads them.
 */
type ConfiguredFields = Required<Pick<TenantPatch, 'name' | 'tier' | 'preferences' | 'allowedModels' | 'limits' | 'budget' | 'models'>>;

function configured(t: TenantConfig, router: Pick<LLMRouter, 'engineFactory'> | undefined): ConfiguredFields {
  return {
    name: (t.name ?? t.id).trim(),
    tier: t.tier,
    preferences: t.preferences,
    allowedModels: t.allowedModels ?? null,
    limits: t.limits ?? null,
    budget: t.budget ?? null,
    models: t.models.length > 0 ? redactModelSecrets(t.models, router ? (kind) => router.engineFactory(kind) : undefined) : null,
  };
}

/** The fields where `tenant` differs from what the config states, as a patch; undefined when none do. */
function differences(tenant: Tenant, want: ConfiguredFields): TenantPatch | undefined {
  const patch: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(want)) {
    if (canonicalJson(tenant[field as keyof ConfiguredFields] ?? null) !== canonicalJson(value)) patch[field] = value;
  }
  return Object.keys(patch).length > 0 ? (patch as TenantPatch) : undefined;
}

type SeedStores = Pick<GatewayStores, 'tenants' | 'ledger' | 'audit' | 'budgets'>;

/**
 * The stored tenant `input.id`; when missing, `'created'` once created from `input`, or `'retired'` when the id
 * was a deleted tenant's (the admin API's own check: a new tenant under it would inherit its usage and spend).
 */
async function existingOrCreate(stores: SeedStores, input: TenantInput & { id: string }): Promise<Tenant | 'created' | 'retired'> {
  const found = await stores.tenants.getTenant(input.id);
  if (found) return found;
  try {
    await checkTenantIdUnused(stores, input.id);
  } catch (e) {
    if (LLMError.isInstance(e) && e.code === 'tenant_id_in_use') return 'retired';
    throw e;
  }
  try {
    await stores.tenants.createTenant(input);
    return 'created';
  } catch (e) {
    // Shared mode: another process starting at the same time on the same database created it first.
    const raced = LLMError.isInstance(e) && e.code === 'conflict' ? await stores.tenants.getTenant(input.id) : undefined;
    if (!raced) throw e;
    return raced;
  }
}

/**
 * The tenants a v3 config lists are declarative: each start creates the missing ones and sets the others'
 * name, tier, preferences, allow-list, limits, budget and models to what the config states (a field the
 * config leaves out is cleared), with one log line and one audit entry (`tenant.create` / `tenant.update`,
 * actor `config-file`) per tenant created or changed. So a change made through the admin API to a config
 * tenant lasts until the next start. `disabled` and the tenant's keys are left alone, and so are tenants the
 * config does not list: one removed from the config stays in the store (delete it through the admin API; served
 * from the stored copy, whose `[redacted]` secrets the gateway never sends: `TenantModelSync` logs the fields to set). A
 * config tenant deleted through the admin API is not created again: its id is retired (a warning says so;
 * rename or remove the config entry). In demo mode the demo tenant is created when missing. `options.router` is the
 * router that serves the config (its engine factories say which options of a model are secret); without it, the
 * engines registered with core's `registerEngine`.
 */
export async function seedTenants(
  stores: SeedStores,
  config: RouterConfig,
  options: { demo: boolean; source: string; log: (entry: GatewayLogEntry) => void; router?: Pick<LLMRouter, 'engineFactory'> },
): Promise<void> {
  const audit = (action: string, id: string, details: Record<string, unknown>) => stores.audit.append({ actor: 'config-file', action, target: id, details: { source: options.source, ...details } });
  const retired = (id: string) =>
    options.log({ level: 'warn', message: `tenant "${id}" (${options.source}) is not created: the id belonged to a deleted tenant and is retired (its usage records and budget spend stay under it); rename or remove the tenant in the config` });
  if (config.version === 3) {
    for (const t of config.tenants) {
      const want = configured(t, options.router);
      const tenant = await existingOrCreate(stores, {
        id: t.id,
        name: want.name,
        tier: want.tier,
        preferences: want.preferences,
        ...(want.allowedModels ? { allowedModels: want.allowedModels } : {}),
        ...(want.limits ? { limits: want.limits } : {}),
        ...(want.budget ? { budget: want.budget } : {}),
        ...(want.models ? { models: want.models } : {}),
      });
      if (tenant === 'retired') {
        retired(t.id);
        continue;
      }
      if (tenant === 'created') {
        // As the admin API's entry: a value past 4096 characters of JSON by its SHA-256 and length (`auditValue`).
        await audit('tenant.create', t.id, { name: auditValue(want.name), tier: want.tier, ...(want.models ? { models: auditValue(want.models.map((m) => m.name)) } : {}) });
        continue;
      }
      const patch = differences(tenant, want);
      if (!patch) continue;
      // The new values as stored, as an admin change records them (models by name and engine: stored redacted anyway).
      // A budget set or given another period starts at the ledger's spend of its window, as through the admin API
      // (before the update and again after it: calls settled in between went to the old period's counter).
      const carry = patch.budget ? budgetPeriodToCarry(tenant.budget, patch.budget) : undefined;
      const at = Date.now();
      if (carry) await carryBudgetSpend(stores, t.id, carry, at);
      const updated = await stores.tenants.updateTenant(t.id, patch);
      if (carry) {
        await carryAfterUpdate(stores, t.id, carry, at, Date.now(), (e) =>
          options.log({ level: 'warn', message: `tenant "${t.id}" set to the config, but its budget spend could not be carried again: ${e instanceof Error ? e.message : String(e)}` }),
        );
      }
      await audit('tenant.update', t.id, { fields: Object.keys(patch), changes: tenantAuditChanges(updated, Object.keys(patch)) });
      options.log({ level: 'info', message: `tenant "${t.id}" set to the config (${options.source}): ${Object.keys(patch).join(', ')}` });
    }
  }
  if (options.demo) {
    const demo = await existingOrCreate(stores, {
      id: DEMO_TENANT_ID,
      name: 'Demo tenant (DEMO MODE: requests without an API key use it; turn off with LLMRR_DEMO=false)',
      tier: 'basic',
      limits: { rpm: 600, maxConcurrency: 64 },
      preferences: {},
    });
    if (demo === 'retired') options.log({ level: 'warn', message: `demo tenant "${DEMO_TENANT_ID}" is not created: the id belonged to a deleted tenant and is retired, so requests without an API key are refused` });
  }
}
