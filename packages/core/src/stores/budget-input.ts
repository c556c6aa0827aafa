import { LLMError } from '../errors/llm-error.js';
import type { BudgetReserveRequest } from '../tenancy/types.js';

export const DEFAULT_RESERVATION_TTL_MS = 10 * 60_000;
const PERIODS = new Set(['day', 'week', 'month', 'total']);

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `Invalid budget request: ${param} ${message}`, param });
}

export function validateUsd(value: unknown, param: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(param, 'must be a finite number >= 0');
}

export function validateReserveRequest(r: BudgetReserveRequest): void {
  if (typeof r.tenantId !== 'string' || r.tenantId.length === 0) throw invalid('tenantId', 'must be a non-empty string');
  if (typeof r.reservationId !== 'string' || r.reservationId.length === 0 || r.reservationId.length > 200) throw invalid('reservationId', 'must be a non-empty string (max 200)');
  if (!PERIODS.has(r.period)) throw invalid('period', 'must be one of day, week, month, total');
  validateUsd(r.limitUsd, 'limitUsd');
  validateUsd(r.estimateUsd, 'estimateUsd');
  if (r.ttlMs !== undefined) validateTtlMs(r.ttlMs);
  validateAt(r.at);
  if (r.force !== undefined && typeof r.force !== 'boolean') throw invalid('force', 'must be a boolean');
  if (r.ledgerId !== undefined && (typeof r.ledgerId !== 'string' || r.ledgerId.length === 0 || r.ledgerId.length > 200)) throw invalid('ledgerId', 'must be a non-empty string (max 200)');
}

/** A time picking a budget period (`reserve`'s `at`, `raiseSpent`'s): undefined or a finite number (epoch ms). */
export function validateAt(at: unknown): void {
  if (at !== undefined && (typeof at !== 'number' || !Number.isFinite(at))) throw invalid('at', 'must be a finite number (epoch ms)');
}

/** A reservation TTL (`reserve`'s `ttlMs`, `renew`'s): a positive integer (ms). */
export function validateTtlMs(ttlMs: unknown): void {
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs <= 0) throw invalid('ttlMs', 'must be a positive integer');
}
