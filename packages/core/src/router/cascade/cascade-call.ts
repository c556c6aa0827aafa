import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import { guardCostOf, guardUsageOf, withGuardCost } from '../../semantic-cache/guard-spend.js';
import type { GenerateRequest, Usage } from '../../spec/index.js';
import { refusedAnswerDetails, refusedAnswerOf } from '../refused-answer.js';
import { normalizeRequest } from '../request.js';
import { billFailedAttempts } from '../stream-driver.js';
import { MAX_REPORTED_USD, reportedCost } from '../reported-cost.js';
import type { Cost, GenerateOptions, PromptOrRequest, RouterResult, RouterStream } from '../types.js';
import type { ResolvedCascade } from './cascade-set.js';
import { providerCacheUsage, sumCost, sumUsage } from './sum-usage.js';
import type { CascadeRecord, CascadeStep, CascadeVerdict } from './types.js';

/** What a cascade needs from its router: the ordinary calls it makes for each step. */
export interface CascadeHost {
  generate(input: PromptOrRequest, options: GenerateOptions): Promise<RouterResult>;
  stream(input: PromptOrRequest, options: GenerateOptions): RouterStream;
  now(): number;
  generateId(): string;
  /** Throws when the call (its `allowedModels`, its tenant's allow-list) may not use the cascade. */
  checkAllowed(cascade: ResolvedCascade, options: GenerateOptions): void;
  /**
   * The cascade call started (`cascade:start`): returns what to call once as it ends (`cascade:end`), or undefined when
   * nobody listens (then nothing is sent). `input`: the call's input (the event carries it normalized, when it is valid).
   */
  started?(c: ResolvedCascade, requestId: string, stream: boolean, options: GenerateOptions, input: PromptOrRequest): CascadeEnd | undefined;
}

/** Ends a cascade call's events: its result or its error. */
export type CascadeEnd = (result: RouterResult | undefined, error: LLMError | undefined) => void;

/**
 * `prepareCascade`, with the cascade's `cascade:start` sent (with the request when it validated, else followed by its
 * `cascade:end` with the error, which is thrown). Returns the request and the end of the events (undefined: no listener).
 */
export function startCascade(
  host: CascadeHost,
  c: ResolvedCascade,
  requestId: string,
  stream: boolean,
  input: PromptOrRequest,
  options: GenerateOptions,
): { request: GenerateRequest; end: CascadeEnd | undefined } {
  let request: GenerateRequest;
  try {
    request = prepareCascade(host, c, input, options);
  } catch (e) {
    host.started?.(c, requestId, stream, options, input)?.(undefined, toLLMError(e));
    throw e;
  }
  return { request, end: host.started?.(c, requestId, stream, options, request) };
}

/** The request a cascade sends to both steps (validated once), after the checks that need no call. */
export function prepareCascade(host: CascadeHost, c: ResolvedCascade, input: PromptOrRequest, options: GenerateOptions): GenerateRequest {
  const request = normalizeRequest(input, options);
  host.checkAllowed(c, options);
  c.check?.(request, c.name);
  return request;
}

/** A step's options: the caller's, on the step's model, with its own request id and metadata naming the cascade. */
export function stepOptions(options: GenerateOptions, c: ResolvedCascade, step: 'weak' | 'strong', requestId: string): GenerateOptions {
  return {
    ...options,
    model: step === 'weak' ? c.weak : c.strong,
    requestId: `${requestId}:${step}`,
    metadata: { ...options.metadata, cascade: c.name, cascadeStep: step },
  };
}

export function stepOf(r: RouterResult): CascadeStep {
  const s: CascadeStep = {
    requestId: r.requestId,
    deployment: r.deployment,
    model: r.model,
    provider: r.provider,
    usage: r.usage,
    cost: r.cost,
    latencyMs: r.latencyMs,
    cached: r.cached,
  };
  if (r.failedAttemptsCost) s.failedAttemptsCost = r.failedAttemptsCost;
  if (r.guardUsage) s.guardUsage = r.guardUsage;
  if (r.decision) s.decision = r.decision;
  if (r.warnings) s.warnings = r.warnings;
  return s;
}

/**
 * What a failed cascade call's error says it paid (`details.cascade`, which the gateway bills): the weak step, and the
 * failed attempts in its cost (`failedAttemptsCost`, `failedAttemptsUsage`, `failedAttempts`: a hedge lane's answer
 * that came with the weak answer), whose tokens are not in the step's `usage`.
 */
function paidDetails(c: ResolvedCascade, weak: RouterResult): { name: string; verifier: string; threshold: number; weak: CascadeStep } & Partial<Pick<RouterResult, 'failedAttemptsCost' | 'failedAttemptsUsage' | 'failedAttempts'>> {
  const cascade: ReturnType<typeof paidDetails> = { name: c.name, verifier: c.verifier, threshold: c.threshold, weak: stepOf(weak) };
  if (weak.failedAttemptsCost) cascade.failedAttemptsCost = weak.failedAttemptsCost;
  if (weak.failedAttemptsUsage) cascade.failedAttemptsUsage = weak.failedAttemptsUsage;
  if (weak.failedAttempts) cascade.failedAttempts = weak.failedAttempts;
  return cascade;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (typeof value === 'object' && 'score' in value) return `a verdict whose score is ${describe((value as { score: unknown }).score)}`;
  return typeof value === 'string' ? `a string (${JSON.stringify(value.slice(0, 40))})` : typeof value;
}

/**
 * The verifier's score of the weak answer, with its cost when it reported one; a thrown error, a result that is
 * neither a number nor a verdict holding one, or a verdict whose cost is not one (`reportedCost`: a negative, NaN or
 * infinite amount, which no ledger records), is a typed `LLMError`.
 */
export async function verify(c: ResolvedCascade, request: GenerateRequest, weak: RouterResult, signal: AbortSignal | undefined): Promise<CascadeVerdict> {
  let score: unknown;
  // The same shape as a strong failure's: the gateway bills the weak call from `details.cascade.weak`.
  const cascade = paidDetails(c, weak);
  const details = { cascade };
  try {
    score = await c.score(request, weak, signal ? { cascade: c.name, signal } : { cascade: c.name });
  } catch (e) {
    // The caller gave up while the verifier ran (a verifier that honours the signal rejects with it): an abort, which
    // still says what the verifier's own model calls were billed before it (its error's symbol keys: `spentKeys`).
    if (signal?.aborted) throw abortError(signal).with({ details: LLMError.isInstance(e) ? spentKeys(e.details, details) : details });
    if (LLMError.isInstance(e)) {
      // Its own details are kept; the cascade's are added beside them (or wrap them when they are not an object).
      throw e.with({ details: verifierDetails(e.details, cascade) });
    }
    throw new LLMError({
      code: 'internal',
      message: `Verifier "${c.verifier}" of cascade "${c.name}" failed: ${e instanceof Error ? e.message : String(e)}`,
      cause: e,
      details,
    });
  }
  if (typeof score === 'number' && !Number.isNaN(score)) return { score };
  const verdict = score as Partial<CascadeVerdict> | null;
  if (typeof verdict === 'object' && verdict !== null && typeof verdict.score === 'number' && !Number.isNaN(verdict.score)) {
    const out: CascadeVerdict = { score: verdict.score };
    const reportedUsage: unknown = verdict.usage;
    if (reportedUsage !== undefined) {
      const usage = reportedTokens(reportedUsage);
      if (!usage) {
        throw new LLMError({ code: 'internal', message: `Verifier "${c.verifier}" of cascade "${c.name}" returned a usage that is not one, expected inputTokens and outputTokens counts (non-negative numbers)`, details });
      }
      out.usage = usage;
    }
    const reported: unknown = verdict.cost;
    if (reported === undefined) return out;
    const cost = reportedCost(reported);
    if (cost) {
      out.cost = cost;
      return out;
    }
    const total = typeof reported === 'object' && reported !== null ? describe((reported as { totalUsd?: unknown }).totalUsd) : describe(reported);
    throw new LLMError({
      code: 'internal',
      message: `Verifier "${c.verifier}" of cascade "${c.name}" returned a cost (totalUsd: ${total}) that is not one, expected amounts from 0 to ${MAX_REPORTED_USD} USD`,
      details,
    });
  }
  throw new LLMError({ code: 'internal', message: `Verifier "${c.verifier}" of cascade "${c.name}" returned ${describe(score)}, expected a number`, details });
}

/**
 * A verifier's error's `details` (`own`) with the cascade's (`cascade`: the weak step paid) beside them, or wrapping
 * them (`{ verifier: own, cascade }`) when they are not an object (a list: a proxy's JSON-list error body; a single
 * value). A wrapped list's symbol keys go on the wrapper as well: what the verifier's own model calls were billed
 * (`REFUSED_ANSWER`: `withBilledAttempts`) and a guard call they paid (`guardCostOf`) stay said where whoever bills the
 * call reads them (a stream's `spent()`, the gateway's ledger).
 */
function verifierDetails(own: unknown, cascade: ReturnType<typeof paidDetails>): Record<PropertyKey, unknown> {
  if (own === undefined) return { cascade };
  if (typeof own !== 'object' || own === null) return { verifier: own, cascade };
  if (!Array.isArray(own)) return { ...own, cascade };
  return spentKeys(own, { verifier: own, cascade });
}

/**
 * `into` with the symbol keys of a verifier's error's `details` (`own`) copied onto it: what its own model calls were
 * billed (`REFUSED_ANSWER`) and a guard call they paid (`guardCostOf`), which whoever bills the call reads there.
 * `into` itself when `own` holds none.
 */
function spentKeys(own: unknown, into: Record<PropertyKey, unknown>): Record<PropertyKey, unknown> {
  if (typeof own !== 'object' || own === null) return into;
  const keys = Object.getOwnPropertySymbols(own);
  if (keys.length === 0) return into;
  const out: Record<PropertyKey, unknown> = { ...into };
  for (const key of keys) out[key] = (own as Record<symbol, unknown>)[key];
  return out;
}

/** A count a verifier reported: a finite non-negative number. */
const isCount = (n: unknown): n is number => typeof n === 'number' && n >= 0 && n < Infinity;

/**
 * A usage that user code reported (a custom cascade verifier's), as a `Usage`, when it is one: its `inputTokens` and
 * `outputTokens` are counts, and so are the prompt-cache counts it gives (others are left out). Undefined otherwise.
 */
function reportedTokens(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const u = value as Partial<Record<keyof Usage, unknown>>;
  if (!isCount(u.inputTokens) || !isCount(u.outputTokens)) return undefined;
  const usage: Usage = { inputTokens: u.inputTokens, outputTokens: u.outputTokens, totalTokens: u.inputTokens + u.outputTokens };
  if (isCount(u.cachedInputTokens)) usage.cachedInputTokens = u.cachedInputTokens;
  if (isCount(u.cacheWriteInputTokens)) usage.cacheWriteInputTokens = u.cacheWriteInputTokens;
  if (isCount(u.cacheWrite1hInputTokens)) usage.cacheWrite1hInputTokens = u.cacheWrite1hInputTokens;
  if (u.estimated === true) usage.estimated = true;
  return usage;
}

/** The sum of two optional costs (undefined when both are). */
function plusCost(a: Cost | undefined, b: Cost | undefined): Cost | undefined {
  return a ? (b ? sumCost(a, b) : a) : b;
}

/** The sum of two optional usages (undefined when both are). */
export function plusUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  return a ? (b ? sumUsage(a, b) : a) : b;
}

/** One sentence on the cascade's decision, put before the answering step's `decision.reason`. */
function decisionNote(record: CascadeRecord): string {
  const head = `cascade "${record.name}": the answer of "${record.weak.deployment}" scored ${Number(record.score.toPrecision(4))} by ${record.verifier} (threshold ${record.threshold})`;
  if (!record.escalated) return `${head}, accepted.`;
  if (record.strongError) return `${head}, escalated, but the strong call failed (${record.strongError.code}): the weak answer is returned.`;
  return `${head}, escalated to "${record.strong?.deployment ?? '?'}".`;
}

/**
 * The cascade's result: the answering step's answer and warnings (the strong one when it was called and
 * succeeded; the weak one's warnings then stay on `cascade.weak` only), usage and cost of both calls, the
 * caller's request id, the attempts of both steps, and the `cascade` record.
 * A step answered from the router's cache adds no prompt-cache reads or writes to the sum (it called no
 * provider: `providerCacheUsage`); the record keeps each step's own usage.
 * The cost also holds what else the call paid for: the verifier's reported cost (`cascade.verifierCost`), and a
 * semantic guard call of a strong step that then failed (`strongError`'s `guardCostOf`); `guardCost` sums the
 * steps' guard calls, and `guardUsage` their tokens (not in `usage`, the steps' answers'; a verifier's reported tokens
 * are `cascade.verifierUsage`); `failedAttemptsCost`, `failedAttemptsUsage` and `failedAttempts` hold both steps'
 * (a hedge lane's answer that came with a step's answer, a stream attempt's reported prompt), and a failed strong
 * step's billed attempts (`REFUSED_ANSWER` on `strongError`).
 */
export function cascadeResult(
  c: ResolvedCascade,
  requestId: string,
  latencyMs: number,
  weak: RouterResult,
  verdict: CascadeVerdict,
  strong: RouterResult | undefined,
  strongError?: LLMError,
): RouterResult {
  const record: CascadeRecord = {
    name: c.name,
    verifier: c.verifier,
    threshold: c.threshold,
    score: verdict.score,
    escalated: strong !== undefined || strongError !== undefined,
    weak: stepOf(weak),
  };
  if (verdict.cost) record.verifierCost = verdict.cost;
  if (verdict.usage) record.verifierUsage = verdict.usage;
  if (strong) record.strong = stepOf(strong);
  if (strongError) record.strongError = strongError;
  const answer = strong ?? weak;
  const strongGuard = strong ? strong.guardCost : strongError && guardCostOf(strongError);
  const guardCost = plusCost(weak.guardCost, strongGuard);
  const guardUsage = plusUsage(weak.guardUsage, strong ? strong.guardUsage : strongError && guardUsageOf(strongError));
  let cost = strong ? sumCost(weak.cost, strong.cost) : weak.cost;
  // (A failed strong step's guard call is not in any step's cost; a verifier's never is.)
  if (!strong && strongGuard) cost = sumCost(cost, strongGuard);
  if (verdict.cost) cost = sumCost(cost, verdict.cost);
  const result: RouterResult = {
    ...answer,
    requestId,
    usage: strong ? sumUsage(providerCacheUsage(weak.usage, weak.cached), providerCacheUsage(strong.usage, strong.cached)) : weak.usage,
    cost,
    latencyMs: latencyMs > 0 ? latencyMs : 0,
    attempts: strong ? [...weak.attempts, ...strong.attempts] : weak.attempts,
    cascade: record,
  };
  if (guardCost) result.guardCost = guardCost;
  else delete result.guardCost;
  if (guardUsage) result.guardUsage = guardUsage;
  else delete result.guardUsage;
  // Both steps' failed attempts (in `cost` already): the weak step's first, in the order they failed.
  if (strong && weak.failedAttemptsCost) {
    result.failedAttemptsCost = plusCost(weak.failedAttemptsCost, strong.failedAttemptsCost);
    const failedUsage = plusUsage(weak.failedAttemptsUsage, strong.failedAttemptsUsage);
    if (failedUsage) result.failedAttemptsUsage = failedUsage;
    if (weak.failedAttempts) result.failedAttempts = strong.failedAttempts ? [...weak.failedAttempts, ...strong.failedAttempts] : weak.failedAttempts;
  }
  // A failed strong step's attempts that its providers billed (`REFUSED_ANSWER`: Gemini's failed tool calls) were paid.
  const billed = !strong && strongError ? refusedAnswerOf(strongError.details) : undefined;
  if (billed) billFailedAttempts(result, { usage: billed.usage, cost: billed.cost, replay: false, ...(billed.failedAttempts ? { failedAttempts: billed.failedAttempts } : {}) });
  delete result.timeToFirstTokenMs;
  if (answer.decision) result.decision = { ...answer.decision, requestId, reason: `${decisionNote(record)} ${answer.decision.reason}` };
  return result;
}

/**
 * The strong call failed after escalation (`error` policy, or the caller aborted): the strong call's error
 * (same code and status), its message prefixed with the cascade's decision, `details.cascade` holding the
 * weak step (its usage and cost were spent; the failed attempts in its cost apart, `paidDetails`) and the verifier's
 * cost and tokens when it reported them, the strong step's
 * semantic guard call when it paid one (`guardCostOf`, `guardUsageOf`), what its failed attempts were billed when
 * they were (`REFUSED_ANSWER`, kept), the original error as `cause`.
 */
export function strongFailure(c: ResolvedCascade, weak: RouterResult, verdict: CascadeVerdict, error: LLMError): LLMError {
  const score = verdict.score;
  const cascade = {
    ...paidDetails(c, weak),
    score,
    escalated: true,
    ...(verdict.cost ? { verifierCost: verdict.cost } : {}),
    ...(verdict.usage ? { verifierUsage: verdict.usage } : {}),
  };
  const guardCost = guardCostOf(error);
  // What the strong step's failed attempts were billed (`REFUSED_ANSWER`: a Gemini failed tool call) stays said.
  const billed = refusedAnswerOf(error.details);
  const failure = error.with({
    message: `Cascade "${c.name}": the answer of "${weak.deployment}" scored ${Number(score.toPrecision(4))} by ${c.verifier} (threshold ${c.threshold}), and the strong model "${c.strong}" failed: ${error.message}`,
    cause: error,
    details: billed ? { cascade, ...refusedAnswerDetails(billed) } : { cascade },
  });
  return guardCost ? withGuardCost(failure, guardCost, guardUsageOf(error)) : failure;
}

/** Whether a failed strong call falls back to the weak answer: the `weak` policy, unless the caller aborted. */
export function keepsWeak(c: ResolvedCascade, error: LLMError, signal: AbortSignal | undefined): boolean {
  return c.onStrongFailure === 'weak' && signal?.aborted !== true && error.code !== 'aborted';
}
