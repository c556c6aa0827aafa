import { LLMError } from '../errors/llm-error.js';
import type { RateAcquireOptions, RateScope } from './types.js';

export const DEFAULT_LEASE_TTL_MS = 10 * 60_000;
/** Hint for `Retry-After` when a concurrency slot is full (when one frees up is unknowable). */
export const CONCURRENCY_RETRY_MS = 1_000;

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `Invalid rate-limit request: ${param} ${message}`, param });
}

function positiveIntOrUndefined(v: unknown, param: string): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)) throw invalid(param, 'must be a positive integer');
}

export function validateAcquire(scopes: RateScope[], options: RateAcquireOptions): void {
  if (!Array.isArray(scopes)) throw invalid('scopes', 'must be an array');
  scopes.forEach((s, i) => {
    if (s.kind !== 'tenant' && s.kind !== 'key') throw invalid(`scopes.${i}.kind`, 'must be "tenant" or "key"');
    if (typeof s.id !== 'string' || s.id.length === 0) throw invalid(`scopes.${i}.id`, 'must be a non-empty string');
    if (typeof s.limits !== 'object' || s.limits === null) throw invalid(`scopes.${i}.limits`, 'must be an object ({} for no limits)');
    positiveIntOrUndefined(s.limits?.rpm, `scopes.${i}.limits.rpm`);
    positiveIntOrUndefined(s.limits?.tpm, `scopes.${i}.limits.tpm`);
    positiveIntOrUndefined(s.limits?.maxConcurrency, `scopes.${i}.limits.maxConcurrency`);
  });
  const t = options.estimatedTokens;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw invalid('estimatedTokens', 'must be a finite number >= 0');
  positiveIntOrUndefined(options.leaseTtlMs, 'leaseTtlMs');
}

export function validateActualTokens(t: number | undefined): void {
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t < 0)) throw invalid('actualTokens', 'must be a finite number >= 0');
}
