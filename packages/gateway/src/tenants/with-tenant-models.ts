import type { TenantStore } from '@llmrr/core';
import type { GatewayStores } from '../types.js';
import type { TenantModelSync } from './tenant-model-sync.js';

/**
 * The stores as the request path sees them: every tenant read for a request (`authenticate`, and
 * `getTenant` for the demo tenant) first syncs the tenant's own models into the router (`TenantModelSync`)
 * and comes back with them in its allow-list, unless the tenant was deleted while the read was on its way
 * (`TenantModelSync.begin`). Everything else passes through. The admin API uses the
 * plain stores.
 */
export function withTenantModels(stores: GatewayStores, models: TenantModelSync): GatewayStores {
  const t = stores.tenants;
  const tenants: TenantStore = {
    createTenant: (input) => t.createTenant(input),
    getTenant: async (id) => {
      const since = models.begin();
      const tenant = await t.getTenant(id);
      return tenant && models.sync(tenant, since);
    },
    listTenants: (options) => t.listTenants(options),
    updateTenant: (id, patch) => t.updateTenant(id, patch),
    deleteTenant: (id) => t.deleteTenant(id),
    createKey: (tenantId, input) => t.createKey(tenantId, input),
    rotateKey: (keyId, options) => t.rotateKey(keyId, options),
    revokeKey: (keyId) => t.revokeKey(keyId),
    updateKey: (keyId, patch) => t.updateKey(keyId, patch),
    getKey: (keyId) => t.getKey(keyId),
    listKeys: (tenantId) => t.listKeys(tenantId),
    authenticate: async (secret) => {
      // Taken before the read: a deletion heard while it is on its way keeps its tenant out of the router.
      const since = models.begin();
      const result = await t.authenticate(secret);
      return result.ok ? { ...result, tenant: models.sync(result.tenant, since) } : result;
    },
    close: () => t.close(),
  };
  return { ...stores, tenants };
}
