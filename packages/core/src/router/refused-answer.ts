import { detailsCopy } from '../errors/details-copy.js';
import type { LLMError } from '../errors/llm-error.js';
import { computeCost } from '../pricing/compute-cost.js';
import type { Usage } from '../spec/index.js';
import { sumCost, sumUsage } from './cascade/sum-usage.js';
import type { RouterDeployment } from './deployment.js';
import type { LateAnswer } from './resilience/run-attempts.js';
import type { Cost, FailedAttemptSpend, RouterEmbedResult, StreamSpend } from './types.js';

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
  /**
   * With hedging, when no lane answered: the refused answers of the call's other lanes, each with its deployment (the
   * error's own is its `deployment`), whose spend `usage` and `cost` hold with the error's own. On a `generate`
   * call's error: its attempts that failed after their provider billed them (`REPORTED_USAGE`: Gemini's failed tool
   * calls), every one, its own included (`withBilledAttempts`). Absent when none.
   */
  failedAttempts?: FailedAttemptSpend[];
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

/** The refused answer `e` carries with its deployment (`order`: the call's, for its model id), if it carries one. */
function refusedSpend(e: LLMError, order: readonly RouterDeployment[]): FailedAttemptSpend | undefined {
  const r = refusedAnswerOf(e.details);
  if (!r) return undefined;
  const d = order.find((o) => o.name === e.deployment);
  return { deployment: e.deployment ?? '', model: d?.modelId ?? '', provider: e.provider ?? d?.provider ?? '', usage: r.usage, cost: r.cost };
}

/**
 * `error` (the first answer a hedged call lost after its provider accepted it) with the refused answers of itself and
 * of `others` (the answers its other lanes lost) under `REFUSED_ANSWER`: each provider billed its own. Their sum is its
 * `usage` and `cost`, the others' answers each with its deployment (`order`: the call's) in its `failedAttempts`.
 * `error` itself when none of `others` carries one. Its other `details` stay as they were (in a copy; a single value,
 * a provider's error body that is a JSON string or number, is put in `body`).
 */
export function withRefusedAnswers(error: LLMError, others: readonly LLMError[], order: readonly RouterDeployment[]): LLMError {
  const own = refusedAnswerOf(error.details);
  let usage = own?.usage;
  let cost = own?.cost;
  let attempts: FailedAttemptSpend[] | undefined;
  for (const e of others) {
    const a = refusedSpend(e, order);
    if (!a) continue;
    (attempts ??= []).push(a);
    usage = usage ? sumUsage(usage, a.usage) : a.usage;
    cost = cost ? sumCost(cost, a.cost) : a.cost;
  }
  if (!attempts) return error;
  const details = detailsCopy(error.details);
  const sum: RefusedAnswer = { usage: usage!, cost: cost!, failedAttempts: attempts };
  details[REFUSED_ANSWER] = sum;
  return error.with({ details });
}

/**
 * A `generate` call's final error with what its failed attempts were billed (`paid`: the attempts whose errors said
 * what their providers billed, `GenerateDriver.paid`) under `REFUSED_ANSWER`: added to the refused answer it carries,
 * if any, the attempts after that one's in `failedAttempts`, so that whoever bills a failed call (the gateway's ledger)
 * bills them, as a failed stream's `spent()` says its attempts'. Its other `details` stay as they were (in a copy, as
 * `withRefusedAnswers` keeps them).
 */
export function withBilledAttempts(error: LLMError, paid: StreamSpend): LLMError {
  const own = refusedAnswerOf(error.details);
  const sum: RefusedAnswer = own ? { usage: sumUsage(own.usage, paid.usage), cost: sumCost(own.cost, paid.cost) } : { usage: paid.usage, cost: paid.cost };
  const attempts = own?.failedAttempts && paid.failedAttempts ? [...own.failedAttempts, ...paid.failedAttempts] : (own?.failedAttempts ?? paid.failedAttempts);
  if (attempts) sum.failedAttempts = attempts;
  const details = detailsCopy(error.details);
  details[REFUSED_ANSWER] = sum;
  return error.with({ details });
}

/** The spend fields of a router result (`RouterResult`, `RouterEmbedResult`) that `addHedgeSpend` fills. */
type SpendFields = Pick<RouterEmbedResult, 'cost' | 'failedAttemptsCost' | 'failedAttemptsUsage' | 'failedAttempts'>;

/**
 * Adds to a hedged call's result what its other lanes were billed for: the refused answers among `lost` (answers lost
 * after their provider accepted them, before or after this one answered: `Won.lost`) and the answers they completed
 * after this one won, before the router could cancel them (`late`: `Won.late`, priced at their deployments'). In its
 * `cost`, apart in `failedAttemptsCost` and `failedAttemptsUsage` (added to any already there), each with its
 * deployment (`order`: the call's) in `failedAttempts`. Its `usage` stays the answer's.
 */
export function addHedgeSpend(result: SpendFields, lost: readonly LLMError[] | undefined, order: readonly RouterDeployment[], late?: readonly LateAnswer[]): void {
  let attempts: FailedAttemptSpend[] | undefined;
  let usage: Usage | undefined;
  let cost: Cost | undefined;
  const add = (a: FailedAttemptSpend) => {
    (attempts ??= []).push(a);
    usage = usage ? sumUsage(usage, a.usage) : a.usage;
    cost = cost ? sumCost(cost, a.cost) : a.cost;
  };
  if (lost) {
    for (const e of lost) {
      const a = refusedSpend(e, order);
      if (a) add(a);
    }
  }
  if (late) {
    for (const { deployment: d, usage: u } of late) add({ deployment: d.name, model: d.modelId, provider: d.provider, usage: u, cost: computeCost(u, d.price) });
  }
  if (!attempts) return;
  result.cost = sumCost(result.cost, cost!);
  result.failedAttemptsCost = result.failedAttemptsCost ? sumCost(result.failedAttemptsCost, cost!) : cost!;
  result.failedAttemptsUsage = result.failedAttemptsUsage ? sumUsage(result.failedAttemptsUsage, usage!) : usage!;
  result.failedAttempts = result.failedAttempts ? [...result.failedAttempts, ...attempts] : attempts;
}
