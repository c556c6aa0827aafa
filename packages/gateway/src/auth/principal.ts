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
 * The tenant the router is told of (its calls' `tenant`, `models(tenant)`): the principal's tenant, none for a
 * gateway without stores. Its `anonymous` is a label (metrics, spans, error messages), not a tenant of the router: its
 * calls learn (explicit feedback included), cache and keep prompt-cache affinity on the router's shared state (a
 * v3 config's `defaultTenant`, if it names one), as a program calling the router without a tenant does.
 */
export function routerTenant(principal: Principal): string | undefined {
  return principal.tenant === undefined ? undefined : principal.tenantId;
}

/**
 * A request refused before its tenant is known (a missing or wrong key), as its metrics count it: `(unauthenticated)`,
 * a label no tenant id can take (ids are letters, digits, `.`, `_` and `-`), so a tenant called `anonymous` never
 * shares its series with strangers' 401s. Never authenticated: only the metrics of the refusal read it.
 */
export const UNAUTHENTICATED: Principal = { tenantId: '(unauthenticated)', tenant: undefined, key: undefined, demo: false };
