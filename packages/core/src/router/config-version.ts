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
