import { estimateRequestTokens, LLMError, type DeploymentInfo, type GenerateRequest, type RateDecision, type RateLease, type RateLimitInfo, type RateScope, type Usage } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import { ledgerCounts } from '../calls/ledger-counts.js';
import type { GatewayRouter, GatewayStores } from '../types.js';
import { estimateGuardMaxCostUsd, estimateInputTokens, estimateMaxCostUsd, estimateRequestTokenBound, semanticGuardOf } from './estimate.js';
import type { Renewals } from './renewals.js';

/** Limits and budget taken for one request; `finish` gives back what was not used. Exactly once. */
export interface Admission {
  rateInfo: RateLimitInfo | undefined;
  /** Releases the concurrency slot, corrects the token charge and settles (or releases) the budget. */
  finish(outcome: { usage: Usage | undefined; costUsd: number; charged: boolean }): Promise<void>;
  /**
   * With a budget reservation: before a stream's retry or fallback that follows attempts billed for the prompt their
   * provider reported (core's `beforeAttemptAfterSpend`, with `billedUsd`, what they cost), extends the reservation
   * atomically (one more reservation in the store) so that it still covers what was billed plus one more call at the
   * reserved worst case. Rejects with `budget_exceeded` when the budget cannot cover it: no further attempt is sent.
   */
  extend?(billedUsd: number): Promise<void>;
}

const NOTHING: Admission = { rateInfo: undefined, finish: async () => {} };

export interface AdmitInput {
  stores: GatewayStores | undefined;
  principal: Principal;
  request: GenerateRequest;
  requestId: string;
  /**
   * When the request arrived (epoch ms, its ledger row's `createdAt`): the budget reservation is in the period
   * this time falls in, so a request arriving as a period ends is charged to the period it is invoiced in.
   * Default: the budget store's clock.
   */
  arrivedAt?: number | undefined;
  /** Deployments the request may run on (for the budget's cost bound). */
  candidates: readonly DeploymentInfo[];
  /**
   * How many of `candidates`, from the start, are the requested model's own deployments (default all): a
   * filled `max_tokens` fits the room one of them leaves (fallbacks are tried only after one of them was planned).
   */
  primaryCandidates?: number | undefined;
  /**
   * For a cascade among `candidates`: what the router may call for each of its steps, by step name (a step's
   * deployments and its fallbacks, all among `candidates`): the budget bounds the cascade step by step.
   */
  steps?: ReadonlyMap<string, readonly DeploymentInfo[]> | undefined;
  defaultMaxOutputTokens: number;
  rateLimitOutputTokens: number;
  /**
   * The prompt's token count when it is known, not estimated from `request` (an embeddings call's token ids: their
   * length). Absent: estimated (`estimateInputTokens`).
   */
  inputTokens?: number | undefined;
  /**
   * How many calls the request may be billed for in full, each bounded as one (a hedged embeddings call with
   * `dimensions`: every lane's answer was billed, also one refused for vectors of another length): the budget
   * reservation and the tokens-per-minute estimate count that many. Default 1.
   */
  billedCalls?: number | undefined;
  /**
   * The router, whose semantic-cache model guard (`semanticGuardOf`) is looked up only for a tenant with a budget or
   * limits: a lookup may pay one guard call before the model call (a failed `verify` is a miss), so the reservation
   * and the tokens-per-minute estimate add its bound. Absent: no guard.
   */
  guardRouter?: GatewayRouter | undefined;
  /** True when the call reads no cache (`llmrr.cache: false`): it makes no semantic lookup, so no guard call. */
  noCacheRead?: boolean | undefined;
  /** Renews the call's lease and reservation while it runs (past the stores' TTL). Absent: not renewed. */
  renewals?: Renewals | undefined;
  /** The client's request signal: with `renewals`, admission stops waiting for the stores when it aborts (499 `aborted`). */
  signal?: AbortSignal | undefined;
}

/** The rate-limit scopes of a principal: its tenant's and its key's limits, where set. */
export function rateScopes(principal: Principal): RateScope[] {
  const out: RateScope[] = [];
  if (principal.tenant?.limits) out.push({ kind: 'tenant', id: principal.tenant.id, limits: principal.tenant.limits });
  if (principal.key?.limits) out.push({ kind: 'key', id: principal.key.id, limits: principal.key.limits });
  return out;
}

function rateLimited(decision: Extract<RateDecision, { ok: false }>): LLMError {
  const what = decision.limit === 'rpm' ? 'requests per minute' : decision.limit === 'tpm' ? 'tokens per minute' : 'concurrent requests';
  return new LLMError({
    code: 'rate_limited',
    message: `Rate limit of ${decision.scope.kind} "${decision.scope.id}" reached (${what}); retry after ${Math.ceil(decision.retryAfterMs / 1000)}s`,
    retryAfterMs: Math.max(1, decision.retryAfterMs),
    details: { rateInfo: decision.info },
  });
}

/**
 * Counts a request refused before admission (a model that does not exist or that the tenant may not use)
 * against its tenant's and key's limits, so a flood of refusals is throttled like any other traffic: takes
 * a request (no tokens) and gives its place back at once; reserves no budget. Over a limit: the same 429
 * `rate_limited` as `admit`, whatever the refusal was. Else the numbers for the refusal's rate-limit headers.
 */
export async function countRefused(
  stores: GatewayStores | undefined,
  principal: Principal,
  log: (message: string, error: unknown) => void,
): Promise<RateLimitInfo | undefined> {
  if (!stores || !principal.tenant) return undefined;
  const scopesOf = rateScopes(principal);
  if (scopesOf.length === 0) return undefined;
  let decision: Awaited<ReturnType<typeof stores.rateLimiter.acquire>>;
  try {
    decision = await stores.rateLimiter.acquire(scopesOf, { estimatedTokens: 0 });
  } catch (e) {
    // The limiter's store failing (Redis down) must not turn the refusal into a 5xx: it stays a refusal.
    log('counting a refused request against the rate limits failed', e);
    return undefined;
  }
  if (!decision.ok) throw rateLimited(decision);
  await decision.lease.release(0).catch((e: unknown) => log('releasing a refused request\'s rate-limit slot failed', e));
  return decision.info;
}

/**
 * This process's random part of reservation ids: 96 random bits (hex) drawn once, with the counter below as
 * unlikely to repeat in another process (or after a restart) as a random UUID drawn per reservation, which
 * cost about 1 KiB of allocation per request (`--heap`). The suffix is no longer than a UUID until the
 * counter passes 36^11.
 */
const RESERVATION_NONCE = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
let reservations = 0;

/** A suffix no other reservation of any process has: this process's nonce and a counter (base 36). */
function reservationSuffix(): string {
  return `${RESERVATION_NONCE}.${(++reservations).toString(36)}`;
}

/**
 * The `maxTokens` the gateway fills in for a budgeted call that set none (the client did not ask for a cap): the
 * default output, or the largest `maxOutputTokens` of the candidates, but no more than the room the prompt leaves
 * in the roomiest candidate's context window, by the router's own estimate (`estimateRequestTokens`), so that a
 * value the client never sent does not make the router refuse a prompt that fits. A candidate without a context
 * window, or whose `maxOutputTokens` fits beside the prompt, has room for any value. When the prompt fills every
 * window the default stays (the router refuses the prompt itself).
 */
export function filledMaxTokens(request: GenerateRequest, candidates: readonly DeploymentInfo[], defaultMaxOutputTokens: number): number {
  let fill = defaultMaxOutputTokens;
  let room = 0;
  let prompt: number | undefined;
  for (const d of candidates) {
    const cap = d.config.maxOutputTokens;
    if (cap !== undefined && cap > fill) fill = cap;
    const window = d.config.contextWindow;
    const left = window === undefined ? Infinity : window - (prompt ??= estimateRequestTokens(request));
    if (cap !== undefined && cap <= left) room = Infinity;
    else if (left > room) room = left;
  }
  return room >= 1 ? Math.min(fill, room) : fill;
}

/**
 * Takes the request's place under its tenant's and key's limits (rpm, tpm, concurrency), then reserves
 * its worst-case cost against the tenant's budget, before any upstream call. Refusals: 429 with
 * `retryAfterMs` (limits) or 402 `budget_exceeded` (budget); a refused request holds nothing.
 */
export async function admit(input: AdmitInput): Promise<Admission> {
  const { stores, principal } = input;
  if (!stores || !principal.tenant) return NOTHING;
  const tenant = principal.tenant;
  // Stops waiting for a store when the client goes away (checked by the gateway's interval; see `Renewals`): a
  // store on the network (shared mode: Redis) can stall; the in-process ones (memory, SQLite) answer in the same
  // turn or at their group commit, so they are not wrapped (two promises and a set entry less per call).
  const waitFor = <T>(work: Promise<T>, late: (value: T) => void): Promise<T> => (input.renewals && stores.mode === 'shared' ? input.renewals.waitFor(work, input.signal, late) : work);

  let lease: RateLease | undefined;
  let rateInfo: RateLimitInfo | undefined;
  const scopesOf = rateScopes(principal);
  let inputTokens: number | undefined = input.inputTokens;
  const guard = input.guardRouter && !input.noCacheRead && (scopesOf.length > 0 || tenant.budget) ? semanticGuardOf(input.guardRouter, input.request, tenant.id) : undefined;
  if (scopesOf.length > 0) {
    inputTokens ??= estimateInputTokens(input.request);
    // Every call the router may make for it (a cascade's two, the guard calls), each at most what a candidate can
    // answer: a `maxTokens` above every candidate's `maxOutputTokens` counts at the largest.
    const estimatedTokens = (input.billedCalls ?? 1) * estimateRequestTokenBound(input.request, input.candidates, inputTokens, input.rateLimitOutputTokens, input.steps, guard);
    const decision = await waitFor(stores.rateLimiter.acquire(scopesOf, { estimatedTokens }), (late) => {
      if (late.ok) void late.lease.release(0).catch(() => undefined);
    });
    if (!decision.ok) throw rateLimited(decision);
    lease = decision.lease;
    rateInfo = decision.info;
  }

  let reservationId: string | undefined;
  /** One call's worst case, as reserved. */
  let callUsd = 0;
  if (tenant.budget) {
    // An uncapped call has no cost bound: cap it at the output the reservation assumes (what is sent, at most).
    input.request.maxTokens ??= filledMaxTokens(
      input.request,
      input.primaryCandidates === undefined ? input.candidates : input.candidates.slice(0, input.primaryCandidates),
      input.defaultMaxOutputTokens,
    );
    let estimateUsd = (input.billedCalls ?? 1) * estimateMaxCostUsd(input.request, input.candidates, input.defaultMaxOutputTokens, inputTokens, input.steps);
    // Each of a cascade's steps is an ordinary call with its own lookup: up to two guard calls.
    if (guard) estimateUsd += (input.steps ? 2 : 1) * estimateGuardMaxCostUsd(input.request, guard, input.defaultMaxOutputTokens, inputTokens, input.candidates);
    // The request id is the gateway's own (a client's x-request-id is never used), but a custom `generateId`
    // could repeat: a suffix unique to this reservation keeps every reservation distinct, so none is reused or
    // settled twice (see `reservationSuffix`).
    const id = `${input.requestId}~${reservationSuffix()}`;
    try {
      const reserving = stores.budgets.reserve({
        tenantId: tenant.id,
        period: tenant.budget.period,
        limitUsd: tenant.budget.amountUsd,
        estimateUsd,
        reservationId: id,
        ...(input.arrivedAt !== undefined ? { at: input.arrivedAt } : {}),
      });
      const r = await waitFor(reserving, (late) => {
        if (late.ok) void stores.budgets.release(id).catch(() => undefined);
      });
      if (!r.ok) {
        throw new LLMError({
          code: 'budget_exceeded',
          message: `Budget of tenant "${tenant.id}" for ${r.periodKey} is exhausted: $${r.remainingUsd.toFixed(6)} of $${r.limitUsd} left, this request may cost up to $${estimateUsd.toFixed(6)}`,
          param: 'model',
          // The request took its place under the limits (rpm) before the refusal: its headers say so.
          ...(rateInfo ? { details: { rateInfo } } : {}),
        });
      }
      reservationId = id;
      callUsd = estimateUsd;
    } catch (e) {
      await lease?.release(0);
      throw e;
    }
  }

  // Only what can expire is renewed: a concurrency lease (a lease without one holds nothing) and a reservation.
  const held = input.renewals && (reservationId !== undefined || (lease && scopesOf.some((s) => s.limits.maxConcurrency !== undefined))) ? input.renewals.add(lease, reservationId) : undefined;
  let done = false;
  /** What failed attempts were billed so far, and what the reservation and its extensions hold. */
  let billedUsd = 0;
  let reservedUsd = callUsd;
  /** The extensions held (made when the first is). */
  let extensions: string[] | undefined;
  let extensionCount = 0;
  // Only a call with a reservation extends it (no closure for the others).
  const extend = reservationId === undefined ? undefined : async (billed: number): Promise<void> => {
    if (done || !(billed > 0)) return;
    billedUsd += billed;
    const missing = billedUsd + callUsd - reservedUsd;
    if (missing <= 0) return;
    const budget = tenant.budget!;
    // (Numbered when asked, so two extensions asked at once, by hedged attempts, never share an id.)
    const id = `${reservationId!}+${++extensionCount}`;
    reservedUsd += missing;
    const r = await waitFor(
      stores.budgets.reserve({ tenantId: tenant.id, period: budget.period, limitUsd: budget.amountUsd, estimateUsd: missing, reservationId: id, ...(input.arrivedAt !== undefined ? { at: input.arrivedAt } : {}) }),
      (late) => {
        if (late.ok) void stores.budgets.release(id).catch(() => undefined);
      },
    );
    if (!r.ok) {
      reservedUsd -= missing;
      throw new LLMError({
        code: 'budget_exceeded',
        message: `Budget of tenant "${tenant.id}" for ${r.periodKey} is exhausted: $${r.remainingUsd.toFixed(6)} of $${r.limitUsd} left; failed attempts were billed $${billedUsd.toFixed(6)} for the prompt their provider reported, and a further attempt may cost up to $${callUsd.toFixed(6)}`,
        param: 'model',
        ...(rateInfo ? { details: { rateInfo } } : {}),
      });
    }
    // Finished meanwhile (the call ended while the store answered): nothing more to hold.
    if (done) {
      void stores.budgets.release(id).catch(() => undefined);
      return;
    }
    (extensions ??= []).push(id);
    if (held) held.extensions = extensions;
  };
  return {
    rateInfo,
    ...(extend ? { extend } : {}),
    async finish({ usage, costUsd, charged }) {
      if (done) return;
      done = true;
      if (held) input.renewals!.remove(held);
      // The first failure is thrown once both are done (no array of errors per call).
      let failed = false;
      let error: unknown;
      if (reservationId !== undefined) {
        try {
          if (charged) await stores.budgets.settle(reservationId, costUsd);
          else await stores.budgets.release(reservationId);
        } catch (e) {
          failed = true;
          error = e;
        }
        // The extensions go only after the cost is settled: released first, the budget would for a moment count less
        // than the call holds, and a concurrent request could take what the settlement then charges.
        if (extensions) {
          for (const id of extensions) {
            try {
              await stores.budgets.release(id);
            } catch (e) {
              if (!failed) {
                failed = true;
                error = e;
              }
            }
          }
        }
      }
      if (lease) {
        try {
          // The counts as the ledger takes them (an upstream's negative or NaN count is 0), so the slot is freed.
          const counts = usage ? ledgerCounts(usage) : undefined;
          await lease.release(counts ? counts.inputTokens + counts.outputTokens : 0);
        } catch (e) {
          if (!failed) {
            failed = true;
            error = e;
          }
        }
      }
      if (failed) throw error;
    },
  };
}
