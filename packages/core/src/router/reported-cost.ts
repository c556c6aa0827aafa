import { NANO_PER_USD } from '../tenancy/money.js';
import type { Cost } from './types.js';

/** The most one reported cost may be: the largest amount the stores keep exactly (2^53 nano-USD, about 9 million USD). */
export const MAX_REPORTED_USD = Number.MAX_SAFE_INTEGER / NANO_PER_USD;

/** An amount from 0 to `MAX_REPORTED_USD` (NaN fails both comparisons). */
const isAmount = (usd: unknown): usd is number => typeof usd === 'number' && usd >= 0 && usd <= MAX_REPORTED_USD;

/**
 * A cost that user code reported (a custom cascade verifier's, a custom semantic guard's), as a `Cost`, when it is
 * one: an object whose `totalUsd`, and `inputUsd` and `outputUsd` when given (else 0), are amounts from 0 to
 * `MAX_REPORTED_USD`. Undefined for anything else (a negative, NaN or infinite amount, a missing total), which no
 * ledger could record.
 */
export function reportedCost(value: unknown): Cost | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { inputUsd = 0, outputUsd = 0, totalUsd, estimated } = value as Partial<Record<keyof Cost, unknown>>;
  if (!isAmount(totalUsd) || !isAmount(inputUsd) || !isAmount(outputUsd)) return undefined;
  return { inputUsd, outputUsd, totalUsd, estimated: estimated === true };
}
