import { canonicalJson, LLMError, type RouterConfig, type Tenant, type TenantConfig, type TenantInput, type TenantPatch, type TenantStore } from '@llmrr/core';
import type { GatewayLogEntry } from '@llmrr/gateway';

export const DEMO_TENANT_ID = 'demo';

/** The fields of a stored tenant that a v3 config's tenant states (`null`: the config leaves it unset). */
type ConfiguredFields = Required<Pick<TenantPatch, 'name' | 'tier' | 'preferences' | 'allowedModels' | 'limits' | 'budget' | 'models'>>;

function configured(t: TenantConfig): ConfiguredFields {
  return {
    name: (t.name ?? t.id).trim(),
    tier: t.tier,
    preferences: t.preferences,
    allowedModels: t.allowedModels ?? null,
    limits: t.limits ?? null,
    budget: t.budget ?? null,
    models: t.models.length > 0 ? t.models : null,
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

/** The stored tenant `input.id`, created from `input` when missing; undefined when this call created it. */
async function existingOrCreate(tenants: TenantStore, input: TenantInput & { id: string }): Promise<Tenant | undefined> {
  const found = await tenants.getTenant(input.id);
  if (found) return found;
  try {
    await tenants.createTenant(input);
    return undefined;
  } catch (e) {
    // Shared mode: another process starting at the same time on the same database created it first.
    const raced = LLMError.isInstance(e) && e.code === 'conflict' ? await tenants.getTenant(input.id) : undefined;
    if (!raced) throw e;
    return raced;
  }
}

/**
 * The tenants a v3 config lists are declarative: each start creates the missing ones and sets the others'
 * name, tier, preferences, allow-list, limits, budget and models to what the config states (a field the
 * config leaves out is cleared), with one log line per tenant changed. So a change made through the admin API
 * to a config tenant lasts until the next start. `disabled` and the tenant's keys are left alone, and so are
 * tenants the config does not list: one removed from the config stays in the store (delete it through the
 * admin API). In demo mode the demo tenant is created when missing.
 */
export async function seedTenants(tenants: TenantStore, config: RouterConfig, options: { demo: boolean; source: string; log: (entry: GatewayLogEntry) => void }): Promise<void> {
  if (config.version === 3) {
    for (const t of config.tenants) {
      const want = configured(t);
      const tenant = await existingOrCreate(tenants, {
        id: t.id,
        name: want.name,
        tier: want.tier,
        preferences: want.preferences,
        ...(want.allowedModels ? { allowedModels: want.allowedModels } : {}),
        ...(want.limits ? { limits: want.limits } : {}),
        ...(want.budget ? { budget: want.budget } : {}),
        ...(want.models ? { models: want.models } : {}),
      });
      const patch = tenant && differences(tenant, want);
      if (!patch) continue;
      await tenants.updateTenant(t.id, patch);
      options.log({ level: 'info', message: `tenant "${t.id}" set to the config (${options.source}): ${Object.keys(patch).join(', ')}` });
    }
  }
  if (options.demo) {
    await existingOrCreate(tenants, {
      id: DEMO_TENANT_ID,
      name: 'Demo tenant (DEMO MODE: requests without an API key use it; turn off with LLMRR_DEMO=false)',
      tier: 'basic',
      limits: { rpm: 600, maxConcurrency: 64 },
      preferences: {},
    });
  }
}
