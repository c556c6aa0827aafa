import { CacheSchema, isConfigExtensionKey, RouterConfigV2Schema, RouterConfigV3Schema } from '@llmrr/core';
import type { MigrationLog } from './migration-log.js';
import { clone, deepEqual, isPlainObject } from './plain.js';
import type { PlainConfig } from './types.js';

/** Top-level key under which settings without a v2 home are kept (the schema allows it, and `x-...` keys, besides its own). */
export const LEGACY_KEY = 'legacy';

let topKeys: ReadonlySet<string> | undefined;
let cacheKeys: ReadonlySet<string> | undefined;

/** A top-level key the core reads (v2 or v3 schema) or lets through (`x-...`, `legacy`). */
export function isRouterTopKey(key: string): boolean {
  topKeys ??= new Set([...Object.keys(RouterConfigV2Schema.shape), ...Object.keys(RouterConfigV3Schema.shape)]);
  return topKeys.has(key) || isConfigExtensionKey(key);
}

/** A key the core's `cache` section holds (`exact`, `semantic`, ...). */
export function isCacheKey(key: string): boolean {
  cacheKeys ??= new Set(Object.keys(CacheSchema.shape));
  return cacheKeys.has(key);
}

/**
 * Puts `value` at `legacy[key]` (`legacy` is the output's legacy object), reporting the move from `from`. A
 * `legacy` that already holds another value there is not overwritten: that is an error (move it by hand), and
 * false (the caller keeps the value where it was).
 */
export function putUnderLegacy(legacy: Record<string, unknown>, key: string, value: unknown, from: ReadonlyArray<string | number>, reason: string, log: MigrationLog, legacyPath: ReadonlyArray<string> = [LEGACY_KEY]): boolean {
  const to = [...legacyPath, key];
  if (Object.hasOwn(legacy, key) && !deepEqual(legacy[key], value)) {
    log.error(from, `no v2 equivalent (${reason}), and ${to.join('.')} is already set: rename one of them (kept where it is)`);
    return false;
  }
  legacy[key] = clone(value);
  log.move(from, to);
  log.warn(from, `no v2 equivalent (${reason}): kept under ${to.join('.')}`);
  return true;
}

/** Whether a v2 or v3 config has keys `moveUnknownKeys` would move (top-level, or under `cache`). */
export function hasUnknownKeys(config: PlainConfig): boolean {
  return Object.keys(config).some((k) => !isRouterTopKey(k)) || (isPlainObject(config.cache) && Object.keys(config.cache).some((k) => !isCacheKey(k)));
}

/**
 * A v2 or v3 config's keys the core refuses, moved under `legacy` (the router ignores it): top-level keys it does
 * not read (a section of another tool, `gateway:`, that loaded before the core refused unknown keys) and `cache`
 * keys it does not read (`legacy.cache`). A key whose place under `legacy` is taken (or whose `legacy` /
 * `legacy.cache` is no object) stays where it is, with an error. Returns the config (a copy, keys in their order,
 * every kept key's move logged for comment-keeping tools) and whether anything moved.
 */
export function moveUnknownKeys(config: PlainConfig, log: MigrationLog): { config: PlainConfig; moved: boolean } {
  const unknownTop = Object.keys(config).filter((k) => !isRouterTopKey(k));
  const cache = config.cache;
  const unknownCache = isPlainObject(cache) ? Object.keys(cache).filter((k) => !isCacheKey(k)) : [];
  if (unknownTop.length === 0 && unknownCache.length === 0) return { config, moved: false };

  const legacy: Record<string, unknown> = isPlainObject(config[LEGACY_KEY]) ? clone(config[LEGACY_KEY]) : {};
  if (config[LEGACY_KEY] !== undefined && !isPlainObject(config[LEGACY_KEY])) {
    log.error([LEGACY_KEY], `${LEGACY_KEY} must be an object to keep the keys the router does not read: rename it`);
    return { config, moved: false };
  }
  const movedTop = new Set(unknownTop.filter((k) => putUnderLegacy(legacy, k, config[k], [k], 'not a key the router reads', log)));
  const movedCache = new Set<string>();
  if (unknownCache.length) {
    const legacyCache: Record<string, unknown> = isPlainObject(legacy.cache) ? legacy.cache : {};
    if (legacy.cache !== undefined && !isPlainObject(legacy.cache)) {
      log.error([LEGACY_KEY, 'cache'], `${LEGACY_KEY}.cache must be an object to keep the cache keys the router does not read: rename it`);
    } else {
      for (const k of unknownCache) {
        if (putUnderLegacy(legacyCache, k, (cache as Record<string, unknown>)[k], ['cache', k], 'not a cache setting the router reads', log, [LEGACY_KEY, 'cache'])) movedCache.add(k);
      }
      if (movedCache.size) legacy.cache = legacyCache;
    }
  }
  if (movedTop.size === 0 && movedCache.size === 0) return { config, moved: false };
  const out: PlainConfig = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === LEGACY_KEY || movedTop.has(k)) continue;
    if (k === 'cache' && isPlainObject(v) && movedCache.size) {
      const kept: Record<string, unknown> = {};
      for (const [ck, cv] of Object.entries(v)) {
        if (movedCache.has(ck)) continue;
        kept[ck] = clone(cv);
        log.move(['cache', ck], ['cache', ck]);
      }
      if (Object.keys(kept).length) out.cache = kept;
      continue;
    }
    out[k] = clone(v);
    log.move([k], [k]);
  }
  if (config[LEGACY_KEY] !== undefined) log.move([LEGACY_KEY], [LEGACY_KEY]);
  out[LEGACY_KEY] = legacy;
  return { config: out, moved: true };
}
