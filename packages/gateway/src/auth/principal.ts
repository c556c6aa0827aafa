import type { ApiKey, Tenant } from '@llmrr/core';

/** Who a request acts for. */
export interface Principal {
  /** Tenant id, or `anonymous` when the gateway runs without stores. */
  tenantId: string;
  tenant: Tenant | undefined;
  key: ApiKey | undefined;
  /** True when no key was given and the demo tenant was used. */
  demo: boolean;
}

export const ANONYMOUS: Principal = { tenantId: 'anonymous', tenant: undefined, key: undefined, demo: false };
