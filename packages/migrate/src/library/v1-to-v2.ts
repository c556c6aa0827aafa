import { isConfigExtensionKey, LLMError } from '@llmrr/core';
import { detectVersion } from './detect-version.js';
import { MigrationLog } from './migration-log.js';
import { extendModelNames, type ModelNameTable } from './model-names.js';
import { clone, isPlainObject } from './plain.js';
import { mapStrategy } from './strategy-names.js';
import type { MigratedConfig, MigrationResult, PlainConfig } from './types.js';
import { convertModelObject, convertModelString, type V1ModelContext } from './v1-model.js';
import { V1_LEGACY_ONLY_KEYS, V1_MAPPED_KEYS } from './v1-keys.js';
import { finishResult } from './finish-result.js';
import { hasUnknownKeys, isCacheKey, isRouterTopKey, LEGACY_KEY, moveUnknownKeys, putUnderLegacy } from './unknown-keys.js';

export { LEGACY_KEY } from './unknown-keys.js';

export interface V1ToV2Options {
  /** Extra legacy model names (old -> new, or old -> `{ name, engine, preset }`), over the built-in table. */
  modelNames?: ModelNameTable;
  /** Extra strategy names (old -> current). */
  strategyNames?: Readonly<Record<string, string>>;
}

/**
 * Throws `config_invalid` for what a migration refuses: not an object, a `__proto__` key, and - unless `depthLimited`
 * is false - objects and arrays nested deeper than MAX_CONFIG_DEPTH. A config the migration hands back as it is
 * (`returnedAsIs`) is not rewritten or printed: no depth limit for it (the core loads it, `validate()` calls it valid).
 */
export function assertConfigObject(config: unknown, fn: string, depthLimited = true): asserts config is PlainConfig {
  if (!isPlainObject(config)) {
    const got = config === null ? 'null' : Array.isArray(config) ? 'an array' : typeof config;
    throw new LLMError({ code: 'config_invalid', message: `${fn}: expected a router config object, got ${got}`, param: 'config' });
  }
  const refusal = refusedShape(config, depthLimited);
  if (refusal?.kind === 'proto') {
    throw new LLMError({ code: 'config_invalid', message: `${fn}: a key named "__proto__" (at ${refusal.path}) cannot be migrated: copied into a new config it would vanish; rename it`, param: refusal.path });
  }
  if (refusal?.kind === 'depth') {
    throw new LLMError({ code: 'config_invalid', message: `${fn}: the config is nested deeper than ${MAX_CONFIG_DEPTH} levels (at ${refusal.path}): no router config is; remove or flatten that part`, param: refusal.path });
  }
}

/**
 * Whether a migration to `to` hands `config` back as it is: a v2 or v3 config at or past `to` with no key to move
 * under `legacy`. (Past `to` is a downgrade, which `migrate` refuses for that reason, not for its depth.)
 */
export function returnedAsIs(config: unknown, to: 2 | 3): boolean {
  if (!isPlainObject(config)) return false;
  const from = detectVersion(config);
  return from !== undefined && from !== 1 && from >= to && !hasUnknownKeys(config);
}

/**
 * How deep a config may nest objects and arrays (the migration, its checks and printers recurse: a config nested
 * thousands of levels deep would overflow the stack). A router config is a few levels deep; model options and
 * `legacy` values a few more.
 */
export const MAX_CONFIG_DEPTH = 100;

/** A path cut to its first few keys (`extra.a.a.a.a.a...`): the path at the depth limit is 100 keys long. */
function pathPrefix(path: string): string {
  const keys = path.split('.');
  return keys.length > 6 ? `${keys.slice(0, 6).join('.')}...` : path;
}

/**
 * The first own `__proto__` key in a parsed config (JSON.parse and YAML keep one as data; assigned to an object it
 * sets the prototype instead, so it would be dropped while reported as kept), or the first value nested deeper than
 * MAX_CONFIG_DEPTH. Iterative: a deeply nested value does not overflow the stack here.
 */
function refusedShape(root: unknown, depthLimited: boolean): { kind: 'proto' | 'depth'; path: string } | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    const nested = Array.isArray(value) || isPlainObject(value);
    if (!nested) continue;
    if (depthLimited && depth >= MAX_CONFIG_DEPTH) return { kind: 'depth', path: pathPrefix(path) };
    const at = (k: string | number) => (path ? `${path}.${k}` : String(k));
    if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: at(i), depth: depth + 1 }));
    else if (isPlainObject(value)) {
      if (Object.hasOwn(value, '__proto__')) return { kind: 'proto', path: at('__proto__') };
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: at(k), depth: depth + 1 });
    }
  }
  return undefined;
}

function positiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/**
 * Converts a v1 config (the original `llm-runner-router` keys, the seed's `{ models: [...], strategy }`,
 * or a mix of v1 and v2 keys) to the v2 shape `@llmrr/core` validates. A config that already is v2 or v3
 * comes back unchanged (`changed: false`), except for the keys the core refuses in it (a top-level section of
 * another tool, an unknown `cache` key), which are moved under `legacy` (`changed: true`, version kept). Nothing
 * is dropped silently: every key is converted, kept, or moved under `legacy`, and reported.
 */
export function v1ToV2(config: unknown, options: V1ToV2Options = {}): MigrationResult {
  assertConfigObject(config, 'v1ToV2', !returnedAsIs(config, 2));
  const from = detectVersion(config);
  if (from === undefined) {
    throw new LLMError({
      code: 'config_invalid',
      message: 'v1ToV2: not a router config (no "models" and none of the v1 keys such as "strategy" or "routingStrategy")',
      param: 'models',
    });
  }
  const log = new MigrationLog();
  if (from !== 1) {
    const tidied = moveUnknownKeys(clone(config), log);
    if (!tidied.moved) log.info([], `already a v${from} config: nothing to do`);
    return finishResult(tidied.config as MigratedConfig, from, from, tidied.moved, log);
  }
  const input = config;
  const out: Record<string, unknown> = { version: 2 };
  const legacy: Record<string, unknown> = isPlainObject(input[LEGACY_KEY]) ? clone(input[LEGACY_KEY]) : {};
  const toLegacy = (key: string, reason: string): void => {
    putUnderLegacy(legacy, key, input[key], [key], reason, log);
  };
  if (input.version !== undefined && input.version !== 2) log.info(['version'], `version ${JSON.stringify(input.version)} becomes 2`);
  if (input.$schema !== undefined) out.$schema = input.$schema;

  // Routing: start from a v2 `routing` object when the config mixes both; v1 keys fill what it lacks.
  const routing: Record<string, unknown> = isPlainObject(input.routing) ? clone(input.routing) : {};
  if (input.routing !== undefined && !isPlainObject(input.routing)) log.error(['routing'], 'routing must be an object');
  const setRouting = (key: string, value: unknown, sourceKey: string, to: Array<string> = [key]): boolean => {
    if (routing[key] !== undefined && !(isPlainObject(routing[key]) && isPlainObject(value))) {
      toLegacy(sourceKey, `routing.${key} is already set`);
      return false;
    }
    if (isPlainObject(routing[key]) && isPlainObject(value)) {
      const existing = routing[key];
      for (const [k, v] of Object.entries(value)) {
        if (existing[k] !== undefined) {
          toLegacy(sourceKey, `routing.${key}.${k} is already set`);
          return false;
        }
        existing[k] = v;
      }
    } else routing[key] = value;
    log.move([sourceKey], ['routing', ...to]);
    return true;
  };

  // Strategy.
  const strategyKeys = ['strategy', 'routingStrategy'].filter((k) => input[k] !== undefined);
  for (const [i, key] of strategyKeys.entries()) {
    const raw = input[key];
    if (typeof raw !== 'string') {
      log.error([key], `${key} must be a strategy name, got ${JSON.stringify(raw)}`);
      continue;
    }
    if (i > 0) {
      toLegacy(key, `${strategyKeys[0]} already names the strategy`);
      continue;
    }
    const m = mapStrategy(raw, options.strategyNames);
    if (m.kind === 'renamed') log.info([key], `strategy "${raw}" no longer exists: it becomes "${m.strategy}"`);
    else if (m.kind === 'normalized') log.info([key], `strategy "${raw}" is spelled "${m.strategy}"`);
    else if (m.kind === 'unknown') log.warn([key], `strategy "${raw}" is not a built-in strategy: kept as is (register it with router.addStrategy, or pick a built-in one)`);
    if (setRouting('strategy', m.strategy, key)) log.info([key], `${key} becomes routing.strategy`);
  }

  // Models.
  const ctx: V1ModelContext = {
    log,
    table: extendModelNames(options.modelNames),
    preferredEngine: typeof input.preferredEngine === 'string' ? input.preferredEngine : undefined,
    maxTokens: positiveInt(input.maxTokens) ? input.maxTokens : undefined,
    listSetsPriority: Array.isArray(input.models) && input.models.some((m) => isPlainObject(m) && m.priority !== undefined),
    keepRefusedOption: (model, key, value, from) => {
      // A later model of the same name is left out as a duplicate (addModel): its options are not the kept one's.
      if (names.has(model)) return;
      const kept = isPlainObject(legacy.modelOptions) ? legacy.modelOptions : (legacy.modelOptions = {});
      const own = isPlainObject(kept[model]) ? kept[model] : (kept[model] = {});
      own[key] = clone(value);
      log.move(from, [LEGACY_KEY, 'modelOptions', model, key]);
    },
  };
  const models: Array<Record<string, unknown>> = [];
  const names = new Set<string>();
  /** How a report names a v1 model: its string, else its `id` or `name`, else the name it got. */
  const modelLabel = (source: unknown, name: string): string => {
    if (typeof source === 'string') return JSON.stringify(source);
    const own = isPlainObject(source) ? [source.id, source.name].find((v): v is string => typeof v === 'string') : undefined;
    return JSON.stringify(own ?? name);
  };
  const addModel = (model: Record<string, unknown>, path: Array<string | number>, source: unknown): void => {
    const name = String(model.name);
    if (names.has(name)) {
      // Named, never printed whole: a model object may hold an apiKey or headers.
      log.warn(path, `model ${modelLabel(source, name)} is a duplicate of "${name}" after renaming: left out (the first one is kept)`);
      return;
    }
    names.add(name);
    log.move(path, ['models', models.length]);
    models.push(model);
  };
  if (Array.isArray(input.models)) {
    input.models.forEach((m, i) => {
      const path = ['models', i];
      if (typeof m === 'string') addModel(convertModelString(m, i, path, ctx), path, m);
      else if (isPlainObject(m)) addModel(convertModelObject(m, i, path, ctx, ['models', models.length]), path, m);
      else log.error(path, `a model must be a name or an object, got ${Array.isArray(m) ? 'a list' : JSON.stringify(m)}`);
    });
  } else if (input.models !== undefined) {
    log.error(['models'], 'models must be a list');
  } else {
    log.error(['models'], 'a v2 config needs a models list (v1 configs that load models at run time with router.load have none; list them here)');
  }

  // Fallbacks: model names as in models, else renamed like the models; names not in models are added as models.
  const fbKeys = ['fallbackModels', 'fallbacks'].filter((k) => input[k] !== undefined);
  const fallbackOff = input.fallbackEnabled === false || input.enableFallback === false;
  for (const [i, key] of fbKeys.entries()) {
    const raw = input[key];
    if (i > 0) {
      toLegacy(key, `${fbKeys[0]} already lists the fallbacks`);
      continue;
    }
    if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) {
      log.error([key], `${key} must be a list of model names`);
      continue;
    }
    if (fallbackOff) {
      toLegacy(key, 'fallbacks were turned off with fallbackEnabled: false');
      continue;
    }
    const list: string[] = [];
    raw.forEach((n, j) => {
      const path = [key, j];
      // A model's own name (e.g. a model object's id that is also an old model name) is that model, as it is.
      if (names.has(n)) {
        if (!list.includes(n)) list.push(n);
        return;
      }
      const converted = convertModelString(n, models.length, path, { ...ctx, log: new MigrationLog() });
      const name = String(converted.name);
      if (!names.has(name)) {
        const before = models.length;
        addModel(convertModelString(n, models.length, path, ctx), path, n);
        if (models.length > before) {
          log.moves.pop();
          log.info(path, `fallback "${n}" is not in models: added as model "${name}" (priority ${before + 1})`);
        }
      } else if (name !== n) log.info(path, `fallback "${n}" is now called "${name}"`);
      if (!list.includes(name)) list.push(name);
    });
    if (setRouting('fallbacks', list, key)) log.info([key], `${key} becomes routing.fallbacks`);
  }
  for (const key of ['fallbackEnabled', 'enableFallback']) {
    if (input[key] === undefined) continue;
    if (input[key] === false) {
      if (setRouting('fallbackToRanked', false, key)) log.info([key], `${key}: false becomes routing.fallbackToRanked: false`);
    } else if (input[key] === true) log.info([key], `${key}: true is the v2 default (routing.fallbackToRanked): removed`);
    else log.error([key], `${key} must be true or false`);
  }

  // Timeout and retries.
  if (input.timeout !== undefined) {
    if (positiveInt(input.timeout)) {
      if (setRouting('timeouts', { totalMs: input.timeout }, 'timeout', ['timeouts', 'totalMs'])) log.info(['timeout'], 'timeout (ms) becomes routing.timeouts.totalMs');
    } else toLegacy('timeout', `not a positive whole number of milliseconds: ${JSON.stringify(input.timeout)}`);
  }
  const retryKeys = ['retries', 'maxRetries'].filter((k) => input[k] !== undefined);
  for (const [i, key] of retryKeys.entries()) {
    const raw = input[key];
    if (i > 0) {
      toLegacy(key, `${retryKeys[0]} already sets the retries`);
      continue;
    }
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) {
      toLegacy(key, `not a whole number of retries: ${JSON.stringify(raw)}`);
      continue;
    }
    const max = Math.min(raw, 10);
    if (max !== raw) log.warn([key], `${raw} retries is above the v2 limit of 10: set to 10`);
    if (setRouting('retries', { max }, key, ['retries', 'max'])) log.info([key], `${key} becomes routing.retries.max`);
  }
  if (input.retryDelay !== undefined) {
    if (typeof input.retryDelay === 'number' && input.retryDelay >= 0) {
      if (setRouting('retries', { initialDelayMs: input.retryDelay }, 'retryDelay', ['retries', 'initialDelayMs'])) log.info(['retryDelay'], 'retryDelay becomes routing.retries.initialDelayMs');
    } else toLegacy('retryDelay', 'not a number of milliseconds');
  }
  if (input.weights !== undefined) {
    const w = input.weights;
    if (isPlainObject(w) && Object.values(w).every((x) => typeof x === 'number')) {
      const weights: Record<string, number> = {};
      for (const [k, v] of Object.entries(w)) weights[k === 'speed' ? 'latency' : k] = v as number;
      if (Object.keys(weights).every((k) => ['quality', 'cost', 'latency'].includes(k))) {
        if (setRouting('weights', weights, 'weights')) log.info(['weights'], 'weights become routing.weights (speed is called latency)');
      } else toLegacy('weights', 'v2 balanced weights are quality, cost and latency');
    } else toLegacy('weights', 'v2 balanced weights are numbers for quality, cost and latency');
  }
  if (Object.keys(routing).length) out.routing = routing;

  // Cache. Keys the v2 cache section does not hold (v1's `type`, a `ttl` whose v2 field is already set) go under legacy.cache.
  const cache: Record<string, unknown> = isPlainObject(input.cache) ? clone(input.cache) : {};
  const cacheLeftovers = new Map<string, string>();
  const exact: Record<string, unknown> = isPlainObject(cache.exact) ? cache.exact : {};
  const setExact = (key: string, value: unknown, sourceKey: string): void => {
    if (exact[key] !== undefined) {
      toLegacy(sourceKey, `cache.exact.${key} is already set`);
      return;
    }
    exact[key] = value;
    log.move([sourceKey], ['cache', 'exact', key]);
  };
  if (typeof input.cache === 'boolean') {
    exact.enabled = input.cache;
    log.info(['cache'], `cache: ${input.cache} becomes cache.exact.enabled`);
    log.move(['cache'], ['cache', 'exact', 'enabled']);
  } else if (input.cache !== undefined && !isPlainObject(input.cache)) toLegacy('cache', 'v2 cache settings are an object');
  else if (isPlainObject(input.cache)) {
    // v1 cache objects: { enabled, ttl, maxSize }.
    for (const [k, to] of [['enabled', 'enabled'], ['ttl', 'ttlMs'], ['ttlMs', 'ttlMs'], ['maxSize', 'maxEntries'], ['maxEntries', 'maxEntries']] as const) {
      if (cache[k] === undefined) continue;
      if (exact[to] === undefined) {
        exact[to] = cache[k];
        log.info(['cache', k], `cache.${k} becomes cache.exact.${to}`);
        log.move(['cache', k], ['cache', 'exact', to]);
      } else cacheLeftovers.set(k, `cache.exact.${to} is already set`);
      if (exact[to] === cache[k]) delete cache[k];
    }
  }
  for (const key of ['enableCaching', 'cacheEnabled']) {
    if (input[key] === undefined) continue;
    if (typeof input[key] === 'boolean') {
      setExact('enabled', input[key], key);
      log.info([key], `${key} becomes cache.exact.enabled`);
    } else toLegacy(key, 'not true or false');
  }
  for (const key of ['cacheTTL', 'cacheTtl']) {
    if (input[key] === undefined) continue;
    if (positiveInt(input[key])) {
      setExact('ttlMs', input[key], key);
      log.info([key], `${key} (ms) becomes cache.exact.ttlMs (the v2 response cache${exact.enabled === undefined ? '; it is off until cache.exact.enabled is true' : ''})`);
    } else toLegacy(key, 'not a positive whole number of milliseconds');
  }
  for (const key of ['cacheSize', 'maxCacheSize']) {
    if (input[key] === undefined) continue;
    if (positiveInt(input[key])) {
      setExact('maxEntries', input[key], key);
      log.info([key], `${key} becomes cache.exact.maxEntries`);
    } else toLegacy(key, 'not a positive whole number');
  }
  if (Object.keys(exact).length) cache.exact = exact;
  const unknownCache = Object.keys(cache).filter((k) => !isCacheKey(k));
  if (unknownCache.length) {
    if (legacy.cache !== undefined && !isPlainObject(legacy.cache)) log.error([LEGACY_KEY, 'cache'], `${LEGACY_KEY}.cache must be an object to keep the v1 cache keys: rename it`);
    else {
      const legacyCache = isPlainObject(legacy.cache) ? legacy.cache : (legacy.cache = {});
      for (const k of unknownCache) {
        // A key whose place is taken stays in cache (an error, as the output's validation also says).
        if (putUnderLegacy(legacyCache, k, cache[k], ['cache', k], cacheLeftovers.get(k) ?? 'not a cache setting of v2', log, [LEGACY_KEY, 'cache'])) delete cache[k];
      }
    }
  }
  if (Object.keys(cache).length) out.cache = cache;

  out.models = models;
  if (input.maxTokens !== undefined) {
    if (ctx.maxTokens !== undefined) log.info(['maxTokens'], 'maxTokens becomes models[].maxOutputTokens');
    else toLegacy('maxTokens', 'not a positive whole number of tokens');
  }

  // v1 keys without a v2 home and unknown keys, kept under `legacy`; `x-...` keys and the v2 keys kept where they are.
  const mapped = new Set<string>(V1_MAPPED_KEYS);
  for (const key of Object.keys(input)) {
    if (mapped.has(key) || key === 'cache' || key === 'routing' || key === LEGACY_KEY) continue;
    if (Object.hasOwn(V1_LEGACY_ONLY_KEYS, key)) {
      if (key === 'preferredEngine' && (input.preferredEngine === 'auto' || input.preferredEngine === undefined)) {
        log.info([key], 'preferredEngine "auto" is what v2 does: removed');
        continue;
      }
      toLegacy(key, V1_LEGACY_ONLY_KEYS[key]!);
    } else if (isConfigExtensionKey(key)) {
      out[key] = clone(input[key]);
    } else if (isRouterTopKey(key)) {
      if (key !== 'version' && key !== '$schema') out[key] = clone(input[key]);
    } else {
      // The core refuses a top-level key it does not know (a misspelt section would load as defaults).
      toLegacy(key, 'not a key the router reads');
    }
  }
  if (Object.keys(legacy).length) out[LEGACY_KEY] = legacy;

  // Key order: version, $schema, models, routing, cache, the rest.
  const ordered: Record<string, unknown> = {};
  for (const k of ['version', '$schema', 'models', 'routing', 'cache']) if (out[k] !== undefined) ordered[k] = out[k];
  for (const [k, v] of Object.entries(out)) if (!(k in ordered)) ordered[k] = v;
  return finishResult(ordered as MigratedConfig, 1, 2, true, log);
}
