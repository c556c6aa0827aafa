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
 * weights, prices and quality, limits, timeouts (a call cut by one is not cached), the on/off switch, tags,
 * alias, region, and the key it authenticates with. Checked against the built-in engines (none of them reads
 * these fields, except the key to authenticate). Any other field (engine, model, preset, baseURL, headers,
 * path, maxOutputTokens, options, and a field added later) is taken to change answers, and so are
 * `contextWindow` (the onnx engine stops generating there) and `capabilities` (the anthropic and gemini
 * engines send a request's `reasoning` only to a model that lists 'reasoning'; the onnx engine embeds for
 * one that lists 'embeddings'), although both also decide whether the model can serve a request.
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
  'apiKey',
  'apiKeyEnv',
]);

/** This process's mark in identity versions, so that two processes sharing a persistent cache never share one. */
let processMark: string | undefined;
let identityCount = 0;
const identities = new WeakMap<object, string>();

/**
 * A version of `owner` itself (`i<process mark>.<n>`), for a config whose answering fields cannot be hashed:
 * the same object gets the same version for its lifetime, any other object (a reloaded deployment) another.
 * Never equal to a hash version (those are 14 hex digits), nor to another process's.
 */
function identityVersion(owner: object): string {
  let v = identities.get(owner);
  if (v === undefined) {
    processMark ??= Math.floor(Math.random() * 2 ** 48).toString(36);
    v = `i${processMark}.${++identityCount}`;
    identities.set(owner, v);
  }
  return v;
}

/**
 * A tag of what decides a model config's answers (`configVersion` of the config without its routing-only
 * fields): the exact and semantic caches file answers under it, so a deployment replaced by one that answers
 * differently (another model, server, context window, capabilities or engine options) never serves the old
 * one's answers, while a change of priority, limits or a rotated key keeps them.
 *
 * A config that cannot be serialized (engine `options` holding a client object with back-references, a
 * BigInt) gets an identity version of `owner` (the deployment; the config when none is given) instead: its
 * answers are cached and served within this process for as long as that deployment lives, and no longer
 * (a `load()` or `setTenant` that replaces it makes a new object, hence a new version; another process never
 * serves them).
 */
export function answerVersion(config: ModelConfig, owner: object = config): string {
  const answering: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!ROUTING_ONLY.has(k)) answering[k] = v;
  try {
    return configVersion(answering as ModelConfig);
  } catch {
    return identityVersion(owner);
  }
}
