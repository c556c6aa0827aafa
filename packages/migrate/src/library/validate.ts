import { BUILTIN_ENGINES, safeParseConfig } from '@llmrr/core';
import { detectVersion } from './detect-version.js';
import { MigrationLog } from './migration-log.js';
import { LEGACY_MODEL_NAMES, currentModelName, type ModelNameTable } from './model-names.js';
import { isPlainObject } from './plain.js';
import { isCurrentStrategy } from './strategy-names.js';
import type { ValidationResult } from './types.js';
import { V1_MAPPED_KEYS, V1_SIGNAL_KEYS } from './v1-keys.js';
import { LEGACY_KEY } from './v1-to-v2.js';

export interface ValidateOptions {
  /** Legacy model names to warn about, over the built-in table. */
  modelNames?: ModelNameTable;
  /** Strategy names registered in your app besides the built-in ones (no warning for them). */
  strategies?: readonly string[];
  /** Engine names registered in your app besides the built-in ones (no warning for them). */
  engines?: readonly string[];
}

/**
 * Checks a config with the core's own schema and adds what the schema does not see: v1 configs, unknown
 * keys the router ignores, old model names, strategies and engines that are not built in, v3 tenant
 * references. `valid` is false when any issue is an error.
 */
export function validate(config: unknown, options: ValidateOptions = {}): ValidationResult {
  const log = new MigrationLog();
  const version = detectVersion(config);
  if (version === undefined || !isPlainObject(config)) {
    log.error([], 'not a router config: expected an object with a "models" list');
    return { valid: false, version, issues: log.issues };
  }
  if (version === 1) {
    const v1Keys = [...V1_SIGNAL_KEYS, ...V1_MAPPED_KEYS].filter((k, i, all) => all.indexOf(k) === i && k !== 'models' && k !== 'version' && Object.hasOwn(config, k));
    log.error([], `this is a v1 config${v1Keys.length ? ` (v1 keys: ${v1Keys.join(', ')})` : ''}: convert it with migrate(config) or llmrr-migrate`);
    if (Array.isArray(config.models)) {
      config.models.forEach((m, i) => {
        if (typeof m === 'string') log.error(['models', i], `v1 model name "${m}": a v2 model is an object with a name`);
      });
    }
    return { valid: false, version, issues: log.issues };
  }
  const parsed = safeParseConfig(config);
  if (!parsed.ok) for (const i of parsed.issues) log.error(i.path === '' ? [] : i.path.split('.'), i.message);

  // Another top-level key than the schema's, `legacy` and `x-...` is refused by the core's schema (above).
  if (Object.hasOwn(config, LEGACY_KEY)) log.info([LEGACY_KEY], `v1 settings kept for reference under "${LEGACY_KEY}": the router ignores them`);
  // (tenants in a v2 config: the core's schema refuses them, naming the missing version: 3.)

  const table = { ...LEGACY_MODEL_NAMES, ...options.modelNames };
  const engines = new Set<string>([...BUILTIN_ENGINES, ...(options.engines ?? [])]);
  const models = Array.isArray(config.models) ? config.models : [];
  const names = new Set<string>();
  models.forEach((m, i) => {
    if (!isPlainObject(m)) return;
    if (typeof m.name === 'string') names.add(m.name);
    if (typeof m.alias === 'string') names.add(m.alias);
    for (const k of ['name', 'model'] as const) {
      const v = m[k];
      if (typeof v !== 'string') continue;
      if (k === 'name' && typeof m.model === 'string') continue;
      const current = currentModelName(v, table);
      if (current !== v) log.warn(['models', i, k], `"${v}" is an old model name: the provider calls it "${current}"`);
    }
    const engine = typeof m.engine === 'string' ? m.engine : 'openai-compatible';
    if (!engines.has(engine)) log.warn(['models', i, 'engine'], `engine "${engine}" is not built in: register it with registerEngine("${engine}", factory) before creating the router`);
  });

  const routing = isPlainObject(config.routing) ? config.routing : {};
  const strategies = new Set(options.strategies ?? []);
  const checkStrategy = (s: unknown, path: Array<string | number>) => {
    if (typeof s === 'string' && !isCurrentStrategy(s) && s !== 'fallback' && !strategies.has(s)) {
      log.warn(path, `strategy "${s}" is not built in: register it with router.addStrategy("${s}", ...) or pick a built-in one`);
    }
  };
  checkStrategy(routing.strategy, ['routing', 'strategy']);

  // An allow-list may name a cascade (the virtual model) as well as a model or alias.
  const cascades = Array.isArray(routing.cascades) ? routing.cascades.flatMap((c) => (isPlainObject(c) && typeof c.name === 'string' ? [c.name] : [])) : [];
  if (version === 3 && Array.isArray(config.tenants)) {
    const ids = new Set<string>();
    config.tenants.forEach((t, i) => {
      if (!isPlainObject(t)) return;
      if (typeof t.id === 'string') {
        if (ids.has(t.id)) log.error(['tenants', i, 'id'], `duplicate tenant id "${t.id}"`);
        ids.add(t.id);
      }
      const own = new Set([...names, ...cascades]);
      if (Array.isArray(t.models)) for (const m of t.models) if (isPlainObject(m) && typeof m.name === 'string') own.add(m.name);
      if (Array.isArray(t.allowedModels)) {
        t.allowedModels.forEach((n, j) => {
          if (typeof n === 'string' && !own.has(n)) log.warn(['tenants', i, 'allowedModels', j], `tenant "${String(t.id)}" allows unknown model "${n}"`);
        });
      }
      if (isPlainObject(t.preferences)) checkStrategy(t.preferences.strategy, ['tenants', i, 'preferences', 'strategy']);
    });
    // Allowed (docs/core/config.md): a router created with unknownTenant: 'shared' serves such a default tenant the
    // shared models, and setTenant may add it later; with the default ('reject') every call naming no tenant fails.
    if (typeof config.defaultTenant === 'string' && !ids.has(config.defaultTenant)) {
      log.warn(['defaultTenant'], `defaultTenant "${config.defaultTenant}" is not one of the tenants (${[...ids].join(', ')}): calls that name no tenant are refused unless the router has unknownTenant: 'shared' (or the tenant is added with setTenant)`);
    }
  }
  return { valid: !log.issues.some((i) => i.severity === 'error'), version, issues: log.issues };
}
