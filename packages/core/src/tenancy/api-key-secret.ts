import * as crypto from 'node:crypto';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every secret starts with this, so leaked keys are easy to spot with secret scanners. */
export const API_KEY_SECRET_PREFIX = 'llmrr_';
/** Characters of the secret kept as the displayable `prefix` (`llmrr_` + 6). */
export const API_KEY_DISPLAY_LENGTH = 12;

const SECRET_PATTERN = /^llmrr_[A-Za-z0-9_-]{43}$/;

/** `llmrr_` + 32 random bytes in base64url (256 bits of entropy). */
export function generateApiKeySecret(): string {
  return API_KEY_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * `crypto.hash` (Node >= 20.12): the same digest without a `Hash` object, a third of the CPU of
 * `createHash` (this runs on every authenticated request). Read off the namespace: older Nodes lack it.
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/**
 * Hex SHA-256 of the secret. A fast hash is right here (unlike passwords): the secret has 256 random
 * bits, so there is no dictionary to try, and a deterministic hash allows an indexed lookup.
 */
export function hashApiKeySecret(secret: string): string {
  return oneShotHash ? oneShotHash('sha256', secret, 'hex') : createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function apiKeyDisplayPrefix(secret: string): string {
  return secret.slice(0, API_KEY_DISPLAY_LENGTH);
}

/** Cheap shape check before any lookup (and before hashing attacker-sized input). */
export function isWellFormedApiKeySecret(value: string): boolean {
  return value.length === API_KEY_SECRET_PREFIX.length + 43 && SECRET_PATTERN.test(value);
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
