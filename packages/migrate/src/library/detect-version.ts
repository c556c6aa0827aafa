import type { ConfigVersion } from './types.js';
import { isPlainObject } from './plain.js';
import { V1_MODEL_KEYS, V1_SIGNAL_KEYS } from './v1-keys.js';

/** A model in v1 shape: a string, or an object without a string `name` or with a key v1 spells differently. */
export function modelLooksV1(model: unknown): boolean {
  if (typeof model === 'string') return true;
  if (!isPlainObject(model)) return false;
  if (typeof model.name !== 'string') return true;
  if (isPlainObject(model.capabilities)) return true;
  return V1_MODEL_KEYS.some((k) => Object.hasOwn(model, k));
}

/** Top-level sections only a v2 or v3 router config has (besides `models`). */
const ROUTER_SECTIONS = ['routing', 'tenants', 'defaultTenant'];

/**
 * Which config version this is: 3 or 2 by `version`, else by shape. A config mixing v1 and v2 keys is 1
 * (it still needs migrating). `undefined` when it is not a router config at all (no `models`, no v1 key, no
 * `routing`, `tenants` or `defaultTenant`: a `version` alone does not make one).
 */
export function detectVersion(config: unknown): ConfigVersion | undefined {
  if (!isPlainObject(config)) return undefined;
  const { version } = config;
  const hasV1Keys = V1_SIGNAL_KEYS.some((k) => Object.hasOwn(config, k));
  const models = config.models;
  // A `version` alone is not a router config's: a Grafana dashboard counts its saves in one, docker compose has one.
  if (!Array.isArray(models) && !hasV1Keys && !ROUTER_SECTIONS.some((k) => Object.hasOwn(config, k))) return undefined;
  if (version === 3 || version === '3') return 3;
  const v1Models = Array.isArray(models) && models.some(modelLooksV1);
  if (version === 1 || version === '1') return 1;
  if (version === 2 || version === '2') return hasV1Keys || v1Models ? 1 : 2;
  if (hasV1Keys || v1Models) return 1;
  if (Array.isArray(models)) return 2;
  return undefined;
}
