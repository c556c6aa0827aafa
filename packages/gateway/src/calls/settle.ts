import {
  guardCostOf,
  guardSpend,
  guardUsageOf,
  LLMError,
  providerCacheUsage,
  refusedAnswerOf,
  sumCost,
  sumUsage,
  type CascadeStep,
  type Cost,
  type FailedAttemptSpend,
  type GenerateRequest,
  type ModelPrice,
  type RouterResult,
  type StreamSpend,
  type Usage,
  type UsageEntryInput,
  type UsageStatus,
} from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import { toPublicError } from '../http/error-body.js';
import type { Admission, FinishRead } from '../tenancy/admission.js';
import type { GatewayMetrics, RequestObservation } from '../metrics/gateway-metrics.js';
import { ledgerCounts, withGuardTokens, type LedgerCounts } from './ledger-counts.js';
import type { CallDeps } from './model-call.js';
import { partialCallCost } from './partial-usage.js';
import { recordedErrorCode } from './resolve-model.js';

/** How a model request ended. */
export interface Settlement {
  status: UsageStatus;
  result?: RouterResult;
  error?: LLMError;
  usage?: Usage;
  /** When there is no router result (embeddings, failures). */
  costUsd?: number;
  /**
   * Time to first token, ms. A stream's: measured by the gateway from the request's arrival to the first content
   * part (the same definition for live streams, cache hits and broken-off ones); a JSON answer's: the router's.
   */
  ttftMs?: number;
  deployment?: string;
  provider?: string;
  /**
   * The price of the deployment that served a stream which broke off or was abandoned (core's route part's `price`,
   * taken when the router chose it): its tokens are billed at it, not at what the tenant's models say at settle time
   * (changed, removed, the tenant deleted). Absent: the deployment has no price (a model id not in the price table): $0.
   */
  price?: Readonly<ModelPrice>;
  cached?: false | 'exact' | 'semantic';
  /** Text sent to the client before a stream broke off or was abandoned (to estimate usage when none was reported). */
  outputText?: string;
  /**
   * A failed or abandoned stream's completed calls (`RouterStream.spent`: a cascade's weak step and verifier, a
   * semantic guard call the lookup paid).
   */
  spent?: StreamSpend;
  /**
   * When there is no router result: the attempts billed before the answer (embeddings refused on other hedge lanes),
   * whose spend is in `usage` and `costUsd`, each with its deployment (for the per-deployment metrics).
   */
  failedAttempts?: readonly FailedAttemptSpend[];
}

export interface SettleCall {
  endpoint: string;
  model: string;
  stream: boolean;
  principal: Principal;
  requestId: string;
  /** Wall-clock time the request came in (epoch ms): the ledger row's `createdAt`. */
  startedAt: number;
  /**
   * `performance.now()` when the request came in: durations are measured on this monotonic clock, so a
   * wall clock stepped back (NTP, a resumed VM) never makes a latency negative (which the ledger refuses).
   */
  startedMono: number;
  /** The model request (for the input estimate of a call that broke off without usage). */
  request?: GenerateRequest;
}

/**
 * Settles one request exactly once: the ledger record (durable before it resolves) together with the
 * budget settlement and limit release, then metrics. Throws `internal` when the ledger could not be written,
 * so the caller does not deliver an answer the ledger does not know about.
 */
export function createSettler(deps: CallDeps, call: SettleCall) {
  let settled = false;
  let metricModel = 'unknown';
  return {
    /** The requested model exists: metrics may name it (unknown names would be unbounded label values). */
    modelKnown(): void {
      metricModel = call.model;
    },
    /** `read`: what the admission's `finish` reads of the limits once it gave the call's place back (`FinishRead`). */
    async settle(s: Settlement, admission: Admission | undefined, read?: FinishRead): Promise<void> {
      if (settled) return;
      settled = true;
      const cached = s.result?.cached ?? s.cached ?? false;
      let usage = s.result?.usage ?? s.usage;
      // A router cache hit called no provider: the original call's prompt-cache reads and writes are not
      // this request's (counted once, on the row of the call that made them). An escalated cascade's usage
      // is a sum that already leaves its cached steps' counts out (its `cached` is the strong step's).
      if (usage && cached !== false && !s.result?.cascade?.strong) usage = providerCacheUsage(usage, cached);
      // The semantic guard calls made for the request (their cost is in the result's) are its tokens too: the row,
      // the metrics and the tokens-per-minute charge count every token the request's calls were billed.
      usage = withGuardTokens(usage, s.result?.guardUsage);
      // So are the prompts of the stream attempts that failed after their provider reported them, before the one that
      // answered (core's `failedAttemptsUsage`; their cost is in the result's): the provider billed them.
      usage = withGuardTokens(usage, s.result?.failedAttemptsUsage);
      // And a cascade verifier's judgement, when the verifier reported its tokens (its cost is in the result's).
      usage = withGuardTokens(usage, s.result?.cascade?.verifierUsage);
      let costUsd = s.result?.cost.totalUsd ?? s.costUsd ?? 0;
      const spent = s.result || s.status === 'success' ? undefined : (s.spent ?? spentBefore(s.error));
      if (spent?.replay) {
        // A completed answer replayed (a cascade's accepted weak answer): paid in full, whatever was sent.
        usage = withGuardTokens(withGuardTokens(spent.usage, spent.guardUsage), spent.verifierUsage);
        costUsd = spent.cost.totalUsd;
      } else {
        if (!s.result && s.costUsd === undefined && s.status !== 'success' && s.deployment !== undefined && !s.cached) {
          // Tokens were produced (an abandoned or broken stream): they are paid for, at the price they were served at.
          const partial = partialCallCost({ usage, outputText: s.outputText, request: call.request, price: s.price });
          if (partial) ({ usage, costUsd } = partial);
        }
        if (spent) {
          // Calls completed before the one that failed (a cascade's weak step, a guard call) were paid too.
          usage = withGuardTokens(withGuardTokens(usage ? sumUsage(spent.usage, usage) : spent.usage, spent.guardUsage), spent.verifierUsage);
          costUsd += spent.cost.totalUsd;
        }
      }
      // The stream attempts that failed after their provider reported usage, each with its deployment (their spend is in
      // the row's, under the deployment that answered; the metrics put it under theirs). Not when the cost is none.
      let failedAttempts: readonly FailedAttemptSpend[] | undefined = s.result ? s.result.failedAttempts : (s.failedAttempts ?? spent?.failedAttempts);
      if (!isAmount(costUsd)) {
        // A cost that is no amount (negative, NaN, infinite: from a wrapped router or custom code) would make the
        // ledger refuse the row of calls that were paid: it is logged and recorded as 0.
        deps.log('a call reported a cost that is not an amount; recorded as 0', call.requestId, costUsd);
        costUsd = 0;
        failedAttempts = undefined;
      }
      const counts = ledgerCounts(usage);
      const latencyMs = performance.now() - call.startedMono;
      // A time to first token the router measured on a wall clock that stepped back is negative: the row
      // (a paid call) is recorded without it rather than refused.
      const ttftMs = s.ttftMs !== undefined && s.ttftMs >= 0 ? s.ttftMs : undefined;
      // The ledger record and the budget settlement are issued in the same synchronous run: the embedded
      // (SQLite) stores then commit both in one group transaction, and the two round trips of the shared
      // stores (PostgreSQL, Redis) overlap. Both are awaited before the response's final bytes.
      let ledgerError: unknown;
      let recorded: Promise<void> | undefined;
      if (deps.stores && call.principal.tenant) {
        // (Called in a try: a store that throws synchronously still lets the budget settle below. No async
        // wrapper: `Promise.resolve` hands a store's own promise through as it is, without extra turns.)
        const ledger = deps.stores.ledger;
        const entry = usageEntry(call, s, counts, costUsd, latencyMs, ttftMs, cached !== false);
        // A failed write is tried once more (a dropped connection, a failed group commit): the ledger is idempotent by
        // request id, so a first write that did commit before its answer was lost is not doubled.
        const again = (): Promise<void> | undefined => {
          try {
            return Promise.resolve(ledger.record(entry)).then(undefined, (e: unknown) => {
              ledgerError = e;
            });
          } catch (e) {
            ledgerError = e;
            return undefined;
          }
        };
        try {
          recorded = Promise.resolve(ledger.record(entry)).then(() => undefined, again);
        } catch {
          recorded = again();
        }
      }
      const finished = admission?.finish({ usage, costUsd, charged: s.status === 'success' || costUsd > 0, read }).catch((e: unknown) => {
        deps.log('releasing limits or settling the budget failed', call.requestId, e);
      });
      await recorded;
      await finished;
      // A row that could not be written fails the request: a success is answered with this `internal` error (the
      // JSON 500, the stream's error frame in place of its finish); a failure keeps its own error, which the caller answers with.
      // It comes after the provider answered (and was paid, and the budget charged): `afterResponse`, so the JSON reply
      // says `x-should-retry: false` and the official clients do not send the request (and pay for it) twice more. (A
      // stream's answer was sent, with its 200: its error frame says only that the gateway failed.) A router cache hit
      // that called no provider (no guard, no verifier: nothing paid) is the plain retryable 500: a retry costs nothing.
      const unrecorded =
        ledgerError === undefined
          ? undefined
          : new LLMError({ code: 'internal', message: 'The usage ledger could not be written', afterResponse: !call.stream && calledProvider(s, cached, costUsd, spent), cause: ledgerError });
      if (deps.metrics) {
        // The fields every observation has in one literal, the optional ones added when present (no spreads).
        const o: RequestObservation = {
          model: s.deployment ?? metricModel,
          tenant: call.principal.tenantId,
          // The code the client was answered with: an upstream refusal of the gateway's own key or account is the
          // 502 `provider_error` it saw, not `authentication` (a client's own bad key). The ledger keeps the reason.
          status: s.status === 'success' ? (unrecorded ? unrecorded.code : 'success') : s.error ? toPublicError(s.error).code : s.status,
          durationMs: latencyMs,
          // A request whose row could not be written adds no cost or tokens: the cost panels add up to the invoices,
          // which do not have it (its budget was charged and its provider paid; the failure is logged).
          costUsd: unrecorded ? 0 : costUsd,
          cached,
        };
        if (call.stream && ttftMs !== undefined) o.ttftMs = ttftMs;
        if (usage && !unrecorded) {
          // A router cache hit's answer called no provider (its row keeps the answer's tokens, marked as a hit): the
          // counters, which add up to the providers' bills, take only the calls made for it (its guard's, a verifier's).
          const c = cached !== false && !s.result?.cascade?.strong ? ledgerCounts(callsForHit(s, spent)) : counts;
          o.inputTokens = c.inputTokens;
          o.outputTokens = c.outputTokens;
          o.cachedInputTokens = c.cachedInputTokens;
          o.cacheWriteInputTokens = c.cacheWriteInputTokens;
        }
        // A throw here (a custom registry's collector, prom-client refusing an amount) is logged: the call was recorded
        // and paid, so it is not failed for it. Each part is guarded on its own: a throw while counting a cascade's steps
        // or failed attempts apart still counts the request itself (`llm_requests_total`, its duration, what `o` kept),
        // and the in-flight gauge still comes down.
        if (!unrecorded) {
          // An escalated cascade's steps, or the weak step of one that failed after it (not a replayed weak answer):
          // the weak step under its own deployment, a step answered from the router cache without its answer's tokens.
          const steps = s.result?.cascade;
          try {
            if (steps?.strong) observeCascadeSteps(deps.metrics, o, steps.weak, steps.strong);
            else if (!s.result && spent?.weakStep && !spent.replay) observeCascadeSteps(deps.metrics, o, spent.weakStep, undefined);
          } catch (e) {
            deps.log('counting the metrics of a call failed', call.requestId, e);
          }
          try {
            if (failedAttempts) observeFailedAttempts(deps.metrics, o, failedAttempts);
          } catch (e) {
            deps.log('counting the metrics of a call failed', call.requestId, e);
          }
        }
        try {
          deps.metrics.observe(o, true);
        } catch (e) {
          // `observe` takes the request out of the in-flight gauge first: it throws only after that.
          deps.log('counting the metrics of a call failed', call.requestId, e);
        }
      }
      if (unrecorded) {
        deps.log('writing the usage ledger failed', call.requestId, ledgerError);
        throw unrecorded;
      }
    },
  };
}

/**
 * Whether a provider was called for the request (sending it again would call, and may pay, again): any call but a
 * router cache hit, and a hit that cost something or made calls for it (semantic guard calls, a verifier's judgement,
 * an escalated cascade's strong step).
 */
function calledProvider(s: Settlement, cached: Settlement['cached'], costUsd: number, spent: StreamSpend | undefined): boolean {
  if (cached === false || costUsd > 0 || s.result?.cascade?.strong) return true;
  const c = ledgerCounts(callsForHit(s, spent));
  return c.inputTokens + c.outputTokens > 0;
}

/**
 * The tokens of the calls made for a router cache hit (semantic guard calls, a cascade verifier's judgement, the billed
 * failed attempts of a cascade's strong step whose failure kept the cached weak answer: `failedAttemptsUsage`, which
 * `observeFailedAttempts` then moves under their own deployments), if any;
 * for a stream that did not finish, those of the calls it completed before the hit too (an escalated cascade's weak
 * step and its failed attempts, when its strong step was the hit: `spent`; of the hit's own replayed answer, only the
 * strong step's failed attempts, `spent.failedAttempts`, which `spent.usage` holds with the answer).
 */
function callsForHit(s: Settlement, spent: StreamSpend | undefined): Usage | undefined {
  const r = s.result;
  if (r) return withGuardTokens(withGuardTokens(withGuardTokens(undefined, r.guardUsage), r.cascade?.verifierUsage), r.failedAttemptsUsage);
  if (!spent) return undefined;
  // A replayed answer (a kept cached weak answer) called no provider, but `spent.usage` holds the billed failed attempts
  // of the strong step besides it: those were calls made for the hit (`observeFailedAttempts` moves them out).
  let made = spent.replay ? undefined : spent.usage;
  if (spent.replay && spent.failedAttempts) for (const a of spent.failedAttempts) made = withGuardTokens(made, a.usage);
  return withGuardTokens(withGuardTokens(made, spent.guardUsage), spent.verifierUsage);
}

/**
 * Counts the spend of `attempts` (stream attempts that failed after their provider reported usage, before the call
 * ended: core's `FailedAttemptSpend`) under their own deployments' `model` label, and takes it out of `o` (the request's
 * observation, under the deployment that answered, whose cost and counts hold it, as the ledger row does): per
 * deployment, the cost and token counters then add up to what each provider billed. Each attempt's counts are
 * cleaned as the row's were (`withGuardTokens`); what `o` keeps never goes below 0.
 */
function observeFailedAttempts(metrics: GatewayMetrics, o: RequestObservation, attempts: readonly FailedAttemptSpend[]): void {
  for (const a of attempts) observeSpendOf(metrics, o, a.deployment, a.cost.totalUsd, ledgerCounts(a.usage));
}

/**
 * A cascade's steps, out of `o` (the request's observation, whose cost and counts sum the steps, as the row does: an
 * escalated cascade's under the strong step's deployment; one that failed after its weak step answered, `strong`
 * undefined, under the deployment its stream was on or the request's `model`): the weak step's spend (its answer, its
 * semantic guard call: its `cost`, less what its failed attempts and hedge lanes took, `failedAttemptsCost`, which
 * `observeFailedAttempts` counts under their own deployments) is counted under its own deployment, so each
 * deployment's counters add up to its provider's bill; a step answered from the router cache called no provider, so
 * its answer's tokens are counted nowhere (as a hit's are not), only its guard call's. Each count is cleaned as the
 * row's were; what `o` keeps never goes below 0.
 */
function observeCascadeSteps(metrics: GatewayMetrics, o: RequestObservation, weak: CascadeStep, strong: CascadeStep | undefined): void {
  if (strong && strong.cached !== false && o.inputTokens !== undefined) takeCounts(o, ledgerCounts(providerCacheUsage(strong.usage, strong.cached)));
  const usd = weak.failedAttemptsCost ? weak.cost.totalUsd - weak.failedAttemptsCost.totalUsd : weak.cost.totalUsd;
  if (weak.cached !== false) {
    if (o.inputTokens !== undefined) takeCounts(o, ledgerCounts(providerCacheUsage(weak.usage, weak.cached)));
    observeSpendOf(metrics, o, weak.deployment, usd, ledgerCounts(withGuardTokens(undefined, weak.guardUsage)));
  } else {
    observeSpendOf(metrics, o, weak.deployment, usd, ledgerCounts(withGuardTokens(weak.usage, weak.guardUsage)));
  }
}

/**
 * Counts one call's spend (cost `usd`, counts `c`) made for the request under `deployment`, and takes it out of `o`
 * (which holds it, as the row does); each amount at most what `o` has.
 */
function observeSpendOf(metrics: GatewayMetrics, o: RequestObservation, deployment: string, usd: number, c: LedgerCounts): void {
  const costUsd = isAmount(usd) ? Math.min(usd, o.costUsd ?? 0) : 0;
  if (o.costUsd !== undefined) o.costUsd -= costUsd;
  if (o.inputTokens !== undefined) {
    takeCounts(o, c);
    metrics.observeSpend({ model: deployment, tenant: o.tenant, costUsd, inputTokens: c.inputTokens, outputTokens: c.outputTokens, cachedInputTokens: c.cachedInputTokens, cacheWriteInputTokens: c.cacheWriteInputTokens });
  } else metrics.observeSpend({ model: deployment, tenant: o.tenant, costUsd });
}

/** Takes `c` out of `o`'s counts (which are set), each at most what `o` has; `c` is left holding what was taken. */
function takeCounts(o: RequestObservation, c: LedgerCounts): void {
  c.inputTokens = Math.min(c.inputTokens, o.inputTokens!);
  c.outputTokens = Math.min(c.outputTokens, o.outputTokens!);
  c.cachedInputTokens = Math.min(c.cachedInputTokens, o.cachedInputTokens!);
  c.cacheWriteInputTokens = Math.min(c.cacheWriteInputTokens, o.cacheWriteInputTokens!);
  o.inputTokens! -= c.inputTokens;
  o.outputTokens! -= c.outputTokens;
  o.cachedInputTokens! -= c.cachedInputTokens;
  o.cacheWriteInputTokens! -= c.cacheWriteInputTokens;
}

/**
 * The ledger row of a settled call: the fields every row has in one literal, the optional ones added when
 * present (as spreads of `cond ? { field } : {}` did, without a temporary object and a copy per field).
 */
function usageEntry(call: SettleCall, s: Settlement, counts: LedgerCounts, costUsd: number, latencyMs: number, ttftMs: number | undefined, cacheHit: boolean): UsageEntryInput {
  const e: UsageEntryInput = {
    requestId: call.requestId,
    tenantId: call.principal.tenantId,
    model: call.model,
    endpoint: call.endpoint,
    inputTokens: counts.inputTokens,
    outputTokens: counts.outputTokens,
    cachedInputTokens: counts.cachedInputTokens,
    cacheWriteInputTokens: counts.cacheWriteInputTokens,
    cacheWrite1hInputTokens: counts.cacheWrite1hInputTokens,
    costUsd,
    latencyMs,
    status: s.status,
    cacheHit,
    stream: call.stream,
    createdAt: call.startedAt,
  };
  if (call.principal.key) e.keyId = call.principal.key.id;
  if (s.deployment) e.deployment = s.deployment;
  if (s.provider) e.provider = s.provider;
  if (ttftMs !== undefined) e.ttftMs = ttftMs;
  // The real reason (a refused model's `permission_denied`, the provider's `authentication` behind a 502
  // `provider_error`), which the client's answer does not say.
  if (s.error) e.errorCode = recordedErrorCode(s.error);
  return e;
}

/**
 * The spend a failed call's error carries for calls completed before the failure: a cascade's weak step
 * (`details.cascade.weak`, set by the router on the strong step's failure and on an abandoned cascade stream) and
 * its verifier's reported cost and tokens (`details.cascade.verifierCost`, `verifierUsage`), and a semantic guard call the call's lookup paid
 * before it failed (`details.guardCost`: core's `guardCostOf`), with the guard calls' tokens as `guardUsage` (the weak
 * step's `guardUsage`, core's `guardUsageOf`); the weak step itself as `weakStep` (for the metrics).
 */
function spentBefore(error: LLMError | undefined): StreamSpend | undefined {
  const details = error?.details;
  if (typeof details !== 'object' || details === null) return undefined;
  // An answer the router (or the route) refused after its provider billed it (embeddings of the wrong `dimensions`),
  // under core's symbol key: a provider's error body in `details` cannot name one.
  // Also a generate call's attempts that failed after their provider billed them (a Gemini failed tool call), summed there
  // (a cascade's strong step's too, beside its weak step below).
  const refused = refusedAnswerOf(details);
  let spent: StreamSpend | undefined;
  if (refused && typeof refused.usage?.inputTokens === 'number' && isAmount(refused.cost?.totalUsd)) {
    // A hedged call's other lanes' refused answers are in the sum, each with its deployment (for the metrics).
    const others = Array.isArray(refused.failedAttempts) && refused.failedAttempts.length > 0 ? refused.failedAttempts : undefined;
    spent = others ? { usage: refused.usage, cost: refused.cost, replay: false, failedAttempts: others } : { usage: refused.usage, cost: refused.cost, replay: false };
  }
  const cascade = (
    details as {
      cascade?: {
        weak?: { usage?: Usage; cost?: { totalUsd?: unknown }; cached?: unknown; guardUsage?: Usage; deployment?: unknown; failedAttemptsCost?: { totalUsd?: unknown } };
        verifierCost?: Partial<Cost>;
        verifierUsage?: Usage;
        failedAttemptsUsage?: Usage;
        failedAttempts?: FailedAttemptSpend[];
      };
    }
  ).cascade;
  const weak = cascade?.weak;
  if (weak?.usage && typeof weak.usage.inputTokens === 'number' && typeof weak.cost?.totalUsd === 'number') {
    // A weak step answered from the router cache (its `CascadeStep.cached`) wrote and read no provider cache.
    const cached = weak.cached === 'exact' || weak.cached === 'semantic' ? weak.cached : false;
    const strong = spent;
    spent = { usage: providerCacheUsage(weak.usage, cached), cost: weak.cost as StreamSpend['cost'], replay: false };
    if (strong) {
      // The strong step's billed failed attempts (`REFUSED_ANSWER`), with the weak step's.
      spent.usage = sumUsage(spent.usage, strong.usage);
      spent.cost = sumCost(spent.cost, strong.cost);
      if (strong.failedAttempts) spent.failedAttempts = strong.failedAttempts;
    }
    // The failed attempts in the weak step's cost (a hedge lane's answer that came with it): their tokens, each with its
    // deployment (for the metrics). Counts from elsewhere are cleaned as the row takes them.
    const failed = cascade?.failedAttemptsUsage;
    if (typeof failed === 'object' && failed !== null) {
      spent.usage = withGuardTokens(spent.usage, failed)!;
      if (Array.isArray(cascade?.failedAttempts) && cascade.failedAttempts.length > 0) spent.failedAttempts = spent.failedAttempts ? [...cascade.failedAttempts, ...spent.failedAttempts] : cascade.failedAttempts;
    }
    // The step itself (core's `CascadeStep`), for the metrics to count it under its own deployment (one from elsewhere
    // that does not say its deployment, whether the cache answered it, or a failed attempts' cost that is one: not).
    const failedCost = weak.failedAttemptsCost;
    if (typeof weak.deployment === 'string' && (cached !== false || weak.cached === false) && (failedCost === undefined || isAmount(failedCost?.totalUsd))) spent.weakStep = weak as CascadeStep;
    // Its guard call's counts are cleaned here, before another guard call's are added to them (below).
    if (typeof weak.guardUsage === 'object' && weak.guardUsage !== null) spent.guardUsage = withGuardTokens(undefined, weak.guardUsage)!;
    // The verifier's reported tokens (core checked them; counts from elsewhere are cleaned as the row takes them).
    const verifierUsage = cascade?.verifierUsage;
    if (typeof verifierUsage === 'object' && verifierUsage !== null) spent.verifierUsage = withGuardTokens(undefined, verifierUsage)!;
  }
  const verifier = cascade?.verifierCost;
  // (Core refuses a verifier's cost that is not an amount; one from elsewhere that is not is left out, never recorded.)
  if (spent && isAmount(verifier?.totalUsd)) spent = { ...spent, cost: sumCost(spent.cost, verifier as Cost) };
  const guard = guardCostOf(error);
  if (!guard) return spent;
  const guardUsage = guardUsageOf(error);
  if (!spent) return guardSpend(guard, guardUsage);
  const tokens = withGuardTokens(spent.guardUsage, guardUsage);
  return { ...spent, cost: sumCost(spent.cost, guard), ...(tokens ? { guardUsage: tokens } : {}) };
}

/** A non-negative finite number of USD (NaN fails the comparison). */
function isAmount(usd: unknown): usd is number {
  return typeof usd === 'number' && usd >= 0 && usd < Infinity;
}
