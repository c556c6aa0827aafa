import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyDisplayPrefix, generateApiKeySecret, hashApiKeySecret, hashesEqual, isWellFormedApiKeySecret } from './api-key-secret.js';

describe('API key secrets', () => {
  it('are llmrr_ + 32 random bytes in base64url, unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = generateApiKeySecret();
      expect(s).toMatch(/^llmrr_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(s.slice(6), 'base64url')).toHaveLength(32);
      expect(isWellFormedApiKeySecret(s)).toBe(true);
      seen.add(s);
    }
    expect(seen.size).toBe(200);
  });

  it('hash to hex SHA-256 and show a short prefix', () => {
    const s = generateApiKeySecret();
    expect(hashApiKeySecret(s)).toBe(createHash('sha256').update(s).digest('hex'));
    expect(apiKeyDisplayPrefix(s)).toBe(s.slice(0, 12));
  });

  it('reject malformed input before any lookup', () => {
    for (const bad of ['', 'llmrr_', `sk-${'a'.repeat(43)}`, `llmrr_${'a'.repeat(42)}`, `llmrr_${'a'.repeat(44)}`, `llmrr_${'a'.repeat(42)}=`, 'x'.repeat(10_000)]) {
      expect(isWellFormedApiKeySecret(bad)).toBe(false);
    }
  });

  it('compare hashes in constant time, length-safe', () => {
    expect(hashesEqual('ab', 'ab')).toBe(true);
    expect(hashesEqual('ab', 'ac')).toBe(false);
    expect(hashesEqual('ab', 'abc')).toBe(false);
  });
});
