import { canonicalJson } from '../cache/canonical-json.js';
import type { ModelConfig } from '../config/schema.js';

/**
 * A short version tag of a model config: a 53-bit hash (cyrb53) of its canonical JSON, as 14 hex digits.
 * Equal configs get equal tags in every process (key order does not matter), a changed config another
 * one, so caches can tell versions of a model apart. A tag, not a security measure.
 */
export function configVersion(config: ModelConfig): string {
  const text = canonicalJson(config);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

/**
 * Fields of a model config that decide where and when it is called, never what it answers: routing order and
 * weights, prices and quality, limits, timeouts, the on/off switch, tags, alias, region, declared capabilities
 * and context window (those decide whether it can serve a request, checked before any cache lookup), and the
 * key it authenticates with. Any other field (engine, model, preset, baseURL, headers, path, maxOutputTokens,
 * options, and a field added later) is taken to change answers.
 */
const ROUTING_ONLY: ReadonlySet<string> = new Set([
  'priority',
  'weight',
  'price',
  'quality',
  'limits',
  'timeouts',
  'enabled',
  'tags',
  'alias',
  'region',
  'capabilities',
  'contextWindow',
  'apiKey',
  'apiKeyEnv',
]);

/**
 * A tag of what decides a model config's answers (`configVersion` of the config without its routing-only
 * fields): the exact and semantic caches file answers under it, so a deployment replaced by one that answers
 * differently (another model, server or engine options) never serves the old one's answers, while a change of
 * priority, limits or a rotated key keeps them.
 */
export function answerVersion(config: ModelConfig): string {
  const answering: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!ROUTING_ONLY.has(k)) answering[k] = v;
  return configVersion(answering as ModelConfig);
}
