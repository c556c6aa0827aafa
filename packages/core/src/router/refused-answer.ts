import type { LLMError } from '../errors/llm-error.js';
import type { Usage } from '../spec/index.js';
import { sumCost, sumUsage } from './cascade/sum-usage.js';
import type { RouterDeployment } from './deployment.js';
import type { Cost, FailedAttemptSpend, RouterEmbedResult } from './types.js';

/**
 * The key under which the router puts, in an `LLMError`'s `details`, an answer it refused after its provider had
 * answered and billed it (embeddings whose vectors are not `dimensions` long): `{ usage, cost }`, the usage the
 * provider reported and its cost at the deployment's price. A symbol, so that no provider's error body (which an
 * engine may put in `details` as it came) can name a spend: JSON has no symbol keys.
 */
export const REFUSED_ANSWER: unique symbol = Symbol.for('@llmrr/core.refusedAnswer');

/** What a refused answer cost (see `REFUSED_ANSWER`). */
export interface RefusedAnswer {
  usage: Usage;
  cost: Cost;
}

/** `details` carrying a refused answer. */
export function refusedAnswerDetails(answer: RefusedAnswer): { [REFUSED_ANSWER]: RefusedAnswer } {
  return { [REFUSED_ANSWER]: answer };
}

/** The refused answer an error's `details` carries, if the router (or code using this key) put one there. */
export function refusedAnswerOf(details: unknown): RefusedAnswer | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const answer = (details as { [REFUSED_ANSWER]?: unknown })[REFUSED_ANSWER];
  return typeof answer === 'object' && answer !== null ? (answer as RefusedAnswer) : undefined;
}

/**
 * `error` (the first answer a hedged call lost after its provider accepted it) with the refused answers of itself and
 * of `others` (the answers its other lanes lost) summed under `REFUSED_ANSWER`: each provider billed its own. `error`
 * itself when none of `others` carries one. Its other `details` stay as they were (in a copy; a single value, a
 * provider's error body that is a JSON string or number, is put in `body`).
 */
export function withRefusedAnswers(error: LLMError, others: readonly LLMError[]): LLMError {
  let sum = refusedAnswerOf(error.details);
  let added = false;
  for (const e of others) {
    const r = refusedAnswerOf(e.details);
    if (!r) continue;
    sum = sum ? { usage: sumUsage(sum.usage, r.usage), cost: sumCost(sum.cost, r.cost) } : r;
    added = true;
  }
  if (!added) return error;
  const own: unknown = error.details;
  const details: Record<PropertyKey, unknown> =
    own === undefined ? {} : Array.isArray(own) ? ([...own] as unknown as Record<PropertyKey, unknown>) : typeof own === 'object' && own !== null ? { ...own } : { body: own };
  details[REFUSED_ANSWER] = sum;
  return error.with({ details });
}

/**
 * Adds to an embed result the refused answers among `lost` (the answers a hedged call's other lanes lost before this
 * one answered; a provider billed each): in its `cost`, apart in `failedAttemptsCost` and `failedAttemptsUsage`, each
 * with its deployment (`order`: the call's) in `failedAttempts`. Its `usage` stays the answer's.
 */
export function addRefusedAnswers(result: RouterEmbedResult, lost: readonly LLMError[], order: readonly RouterDeployment[]): void {
  let attempts: FailedAttemptSpend[] | undefined;
  let usage: Usage | undefined;
  let cost: Cost | undefined;
  for (const e of lost) {
    const r = refusedAnswerOf(e.details);
    if (!r) continue;
    const d = order.find((o) => o.name === e.deployment);
    (attempts ??= []).push({ deployment: e.deployment ?? '', model: d?.modelId ?? '', provider: e.provider ?? d?.provider ?? '', usage: r.usage, cost: r.cost });
    usage = usage ? sumUsage(usage, r.usage) : r.usage;
    cost = cost ? sumCost(cost, r.cost) : r.cost;
  }
  if (!attempts) return;
  result.cost = sumCost(result.cost, cost!);
  result.failedAttemptsCost = cost!;
  result.failedAttemptsUsage = usage!;
  result.failedAttempts = attempts;
}
