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

/**
 * A request refused before its tenant is known (a missing or wrong key), as its metrics count it: `(unauthenticated)`,
 * a label no tenant id can take (ids are letters, digits, `.`, `_` and `-`), so a tenant called `anonymous` never
 * shares its series with strangers' 401s. Never authenticated: only the metrics of the refusal read it.
 */
export const UNAUTHENTICATED: Principal = { tenantId: '(unauthenticated)', tenant: undefined, key: undefined, demo: false };
