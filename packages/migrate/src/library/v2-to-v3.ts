import { LLMError, TenantConfigSchema } from '@llmrr/core';
import { detectVersion } from './detect-version.js';
import { finishResult } from './finish-result.js';
import { MigrationLog } from './migration-log.js';
import { clone, isPlainObject } from './plain.js';
import type { MigratedConfig, MigrationResult } from './types.js';
import { moveUnknownKeys } from './unknown-keys.js';
import { assertConfigObject, returnedAsIs } from './v1-to-v2.js';

export interface V2ToV3Options {
  /**
   * Tenant id, added to `tenants` when missing; it is `defaultTenant` (the tenant of calls that name none)
   * unless the config names one. Default: the config's own `defaultTenant`, else its first tenant, else `default`.
   */
  tenant?: string;
  /** Display name of that tenant. */
  tenantName?: string;
}

/** The tenant id rules: what `--tenant` and `{ tenant }` accept. */
export function checkTenantId(tenant: string): void {
  if (!/^[A-Za-z0-9][\w.-]{0,63}$/.test(tenant)) {
    throw new LLMError({
      code: 'config_invalid',
      message: `tenant id "${tenant}" is not valid: use 1-64 letters, digits, "_", "-" or ".", starting with a letter or digit`,
      param: 'tenant',
    });
  }
}

/**
 * Converts a v2 config to v3: `version: 3`, `tenants` (the config's own, plus `options.tenant` when it is not
 * listed; `default` when there is none) and `defaultTenant` (the config's own, else that tenant). Models,
 * routing and cache stay as they are; keys the core refuses are moved under `legacy` (see `v1ToV2`). A v3 config
 * comes back unchanged but for those keys; a v1 config is refused (use
 * `migrate(config, { to: 3 })`, which goes through v2).
 */
export function v2ToV3(config: unknown, options: V2ToV3Options = {}): MigrationResult {
  assertConfigObject(config, 'v2ToV3', !returnedAsIs(config, 3));
  const from = detectVersion(config);
  const log = new MigrationLog();
  if (from === 3) {
    const tidied = moveUnknownKeys(clone(config), log);
    if (!tidied.moved) log.info([], 'already a v3 config: nothing to do');
    return finishResult(tidied.config as MigratedConfig, 3, 3, tidied.moved, log);
  }
  if (from !== 2) {
    throw new LLMError({
      code: 'config_invalid',
      message: from === 1 ? 'v2ToV3: this is a v1 config; use migrate(config, { to: 3 }) or v1ToV2 first' : 'v2ToV3: not a router config (no "models" list)',
      param: from === 1 ? 'version' : 'models',
    });
  }
  let tenants: unknown[];
  if (config.tenants !== undefined) {
    if (!Array.isArray(config.tenants)) {
      log.error(['tenants'], 'tenants must be a list of tenant objects');
      tenants = [];
    } else {
      tenants = clone(config.tenants);
      tenants.forEach((t, i) => {
        const r = TenantConfigSchema.safeParse(t);
        if (!r.success) log.error(['tenants', i], `not a valid tenant: ${r.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ')}`);
      });
      log.info(['tenants'], 'the tenants already listed in the v2 config are kept');
    }
  } else tenants = [];
  // Without { tenant }: the config's own default tenant, else the first it lists, else "default".
  const listed = tenants.map((t) => (isPlainObject(t) && typeof t.id === 'string' ? t.id : undefined)).filter((id) => id !== undefined);
  const own = typeof config.defaultTenant === 'string' ? config.defaultTenant : listed[0];
  if (options.tenant !== undefined) checkTenantId(options.tenant);
  else if (own === undefined) log.warn(['tenants'], 'no tenant given: added tenant "default" (pass { tenant } or --tenant to name it)');
  const tenant = options.tenant ?? own ?? 'default';
  if (!listed.includes(tenant)) {
    tenants.push({ id: tenant, ...(options.tenantName ? { name: options.tenantName } : {}) });
    log.info(['tenants'], `tenant "${tenant}" added`);
  }
  const defaultTenant = config.defaultTenant ?? tenant;
  if (config.defaultTenant === undefined) log.info(['defaultTenant'], `defaultTenant is "${tenant}" (calls that name no tenant use it)`);

  const out: Record<string, unknown> = { version: 3 };
  if (config.version !== undefined && config.version !== 3) log.info(['version'], `version ${JSON.stringify(config.version)} becomes 3`);
  // Keys the core refuses (a section of another tool, an unknown cache key) go under legacy, as from v1ToV2.
  for (const [k, v] of Object.entries(moveUnknownKeys(config, log).config)) {
    if (k === 'version' || k === 'tenants' || k === 'defaultTenant') continue;
    out[k] = clone(v);
    log.move([k], [k]);
  }
  out.tenants = tenants;
  out.defaultTenant = defaultTenant;
  return finishResult(out as MigratedConfig, 2, 3, true, log);
}
