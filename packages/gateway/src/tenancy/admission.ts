import { estimateRequestTokens, LLMError, type BudgetPeriod, type BudgetReserveRequest, type BudgetStore, type DeploymentInfo, type GenerateRequest, type RateDecision, type RateLease, type RateLimiter, type RateLimitInfo, type RateScope, type Usage } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import { ledgerCounts } from '../calls/ledger-counts.js';
import type { GatewayRouter, GatewayStores } from '../types.js';
import { estimateGuardMaxCostUsd, estimateInputTokens, estimateMaxCostUsd, estimateRequestTokenBound, semanticGuardOf } from './estimate.js';
import type { Held, Renewals } from './renewals.js';
import { settled } from './settled.js';

/** Limits and budget taken for one request; `finish` gives back what was not used. Exactly once. */
export interface Admission {
  /**
   * The acquire's numbers: the request counted, its token estimate charged, its concurrency slot held. The headers of
   * a reply sent while the call runs (a stream's), and the fallback of `finalInfo`.
   */
  rateInfo: RateLimitInfo | undefined;
  /**
   * Set by a `finish` told to `read`, once the call gave its place back: what the limiter says is left then (the request
   * counted, its token charge corrected to the usage, its concurrency slot free, other requests' places counted), read
   * in the release's own store round trip (`RateLease.releaseAndPeek`; under rpm limits only, the Redis release has
   * nothing to send, and for a call that held its place at most a second neither has this: the acquire's numbers as
   * the release leaves them, unless `'fresh'`). The headers of a reply sent after `finish` (a JSON answer, a stream's
   * error sent before it opened). Unset when the release (or the read) failed: the caller keeps `rateInfo`.
   */
  finalInfo?: RateLimitInfo;
  /** Releases the concurrency slot, corrects the token charge and settles (or releases) the budget. */
  finish(this: Admission, outcome: { usage: Usage | undefined; costUsd: number; charged: boolean; read?: FinishRead | undefined }): Promise<void>;
  /**
   * With a budget reservation: before a retry or fallback that follows attempts billed for what their provider
   * reported (a stream's prompt, a JSON call's failed answer: core's `beforeAttemptAfterSpend`, with `billedUsd`, what they cost), extends the reservation
   * atomically (one more reservation in the store) so that it still covers what was billed plus one more call at the
   * reserved worst case. Rejects with `budget_exceeded` when the budget cannot cover it: no further attempt is sent.
   */
  extend?(billedUsd: number): Promise<void>;
  /**
   * Set when the budget could not cover the call but the call may still be answered from the router's caches
   * (`AdmitInput.servesFromCache`): the 402 `budget_exceeded` the call gets unless a cached answer (cost 0) serves
   * it. The call holds its place under the limits (given back by `finish`) and no reservation.
   */
  cacheOnly?: LLMError;
  /**
   * Set when the call took a place under the limits: what the limiter says is left (`peek`, one store round trip), for
   * the headers of a refusal sent after `finish` gave the place back (a 402 raised mid-call: an extension refused, a
   * cache-only call's miss), which held it across some work: its token charge corrected, the places other requests
   * took meanwhile counted. Rejects when the store fails (the caller falls back to the refusal's own numbers).
   */
  left?(this: Admission): Promise<RateLimitInfo>;
}

/**
 * What `Admission.finish` reads of the limits once it gave the call's place back (`finalInfo`), for a reply whose
 * headers go out after it. `'release'`: what the release says (`RateLease.releaseAndPeek`: no more round trips than the
 * release makes anyway). `'fresh'`: read from the store even when the release has nothing to send, so that the places
 * others took meanwhile are counted (a refusal raised after the call held its place: `Admission.left`'s numbers).
 * Absent: a plain release, nothing read (a stream whose headers went out as it opened, a client that left).
 */
export type FinishRead = 'release' | 'fresh';

/** The admission of a request that takes nothing (shared by all of them: frozen). */
const NOTHING: Admission = Object.freeze({ rateInfo: undefined, finish: async () => {} });

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
   * The prompt's token count when it is known, not estimated from `request` (an embeddings call's: its token ids'
   * length, or its texts' bound without chat framing). Absent: estimated (`estimateInputTokens`).
   */
  inputTokens?: number | undefined;
  /**
   * How many calls the request may be billed for in full, each bounded as one (a hedged non-streamed call: every
   * lane's answer may be billed, `hedgeLanes`): the budget reservation and the tokens-per-minute estimate count that
   * many. Default 1.
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
  /**
   * True when the call may be answered from the router's caches alone (a model call reading them, on a router that
   * honours `cacheOnly`): a budget that cannot cover it admits it cache-only (`Admission.cacheOnly`) instead of
   * refusing it. The limits apply as to any call. Absent: a budget refusal is thrown.
   */
  servesFromCache?: boolean | undefined;
  /** Renews the call's lease and reservation while it runs (past the stores' TTL). Absent: not renewed. */
  renewals?: Renewals | undefined;
  /** The client's request signal: with `renewals`, admission stops waiting for the stores when it aborts (499 `aborted`). */
  signal?: AbortSignal | undefined;
  /**
   * Logs what does not fail the call: a failed read of what is left for its headers (`finalInfo`), with `requestId`
   * (the gateway's own log, passed as it is: nothing made per call).
   */
  log?: ((message: string, requestId: string, error: unknown) => void) | undefined;
}

/** Whether one of `scopes` has a concurrency limit (a lease under it holds a place until it is released). */
function holdsConcurrency(scopes: readonly RateScope[]): boolean {
  for (const s of scopes) if (s.limits.maxConcurrency !== undefined) return true;
  return false;
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
 * How long a place taken by `takePlace` is renewed (ms): three times the stores' lease TTL (10 minutes). A plan that
 * never settles (a strategy whose ranking hangs) would otherwise hold its tenant's `maxConcurrency` place until the
 * process stops; past this bound it is left to expire at the TTL (logged once), so it is freed at most 40 minutes in.
 */
export const PLACE_RENEW_FOR_MS = 30 * 60_000;

/** A place under the limits held by a request that calls no model across some work (`takePlace`), until it is given back. */
export interface HeldPlace {
  /**
   * Gives the place back, no tokens used (a release that fails is logged and tried again by `renewals`: never rejects).
   * `read`: `left` is asked next (the reply's headers), so a place under a concurrency limit reads what is left in its
   * release's own round trip (`RateLease.releaseAndPeek`). Without it, a plain release (nobody reads what is left: a
   * token count, a plan whose client left).
   */
  release(read?: boolean): Promise<void>;
  /**
   * The numbers for the request's rate-limit headers once its place is given back (`release(true)` first). A place under a
   * concurrency limit (held across the work): what the limiter says is left then (the request still counted, the places
   * other requests took while it was held counted too), read by the release itself (`RateLease.releaseAndPeek`, one
   * store round trip for both; a limiter without it: a `peek` after), or the acquire's own numbers when that fails
   * (logged). A place under no concurrency limit holds nothing (its release has nothing to free): the acquire's numbers
   * (`RateLease.releasedInfo`), no store round trip, so such a request costs the limiter one call, the acquire.
   */
  left(): Promise<RateLimitInfo>;
}

/**
 * Takes a place under its tenant's and key's limits for a request that calls no model, so that a flood of them is
 * throttled like any other traffic: a routing preview (`/api/route`, whose plan may embed the prompt: the
 * `intelligent` strategy's `embed`, held across the plan so that `maxConcurrency` bounds the plans at once), a remote
 * token count (`countAdmission`); one given back at once (a refusal) is `countRequest`'s.
 * Takes a request (no tokens) and reserves no budget. Over a limit: the same 429 `rate_limited` as `admit`, whatever
 * the request was. Undefined: nothing to take (no stores, no limits), or the limiter's store failed (logged: a Redis
 * down must not turn the request into a 5xx; a refusal stays a refusal, a preview is answered).
 */
export async function takePlace(
  stores: GatewayStores | undefined,
  principal: Principal,
  log: (message: string, error: unknown) => void,
  renewals?: Renewals | undefined,
): Promise<HeldPlace | undefined> {
  const taken = await acquirePlace(stores, principal, log);
  if (!taken) return undefined;
  const { limiter, scopes, lease, info } = taken;
  // Renewed while held, as an admitted call's lease is: a plan (or count) longer than the lease's TTL keeps its place,
  // for at most `PLACE_RENEW_FOR_MS` (logged): a plan that never settles frees its place at most a TTL later.
  const holds = holdsConcurrency(scopes);
  const held = renewals && holds ? renewals.add(lease, undefined, PLACE_RENEW_FOR_MS, 'the rate-limit place of a request that calls no model (a routing preview or token count)') : undefined;
  /** What the release read (`releaseAndPeek`), once it has run. */
  let after: RateLimitInfo | undefined;
  return {
    release: (read) => {
      if (held) renewals!.remove(held);
      if (!read || !holds || !lease.releaseAndPeek) return releasePlace(lease, log, renewals, principal.tenantId);
      // (Async: a custom lease's releaseAndPeek that throws synchronously is handled as one that rejects.)
      return (async () => lease.releaseAndPeek!(0))().then(
        (read) => {
          after = read;
        },
        (e: unknown) => {
          // Given back by `renewals` (a plain release, tried again); the headers fall back to a peek, else the acquire's numbers.
          renewals?.retry(() => lease.release(0), `the rate-limit place of a request of tenant "${principal.tenantId}" that calls no model`);
          log('releasing the rate-limit place of a request that calls no model failed', e);
        },
      );
    },
    // (Async: a custom limiter's peek that throws synchronously is answered as one that rejects.)
    left: async () => {
      if (after) return after;
      if (!holds) return lease.releasedInfo?.() ?? info;
      try {
        return await limiter.peek(scopes);
      } catch (e) {
        log('reading the rate limits left after a request that calls no model failed', e);
        return info;
      }
    },
  };
}

/**
 * Counts a request that calls no model and answers at once (a refusal, one refused before admission: a model that
 * does not exist or that the tenant may not use) against its tenant's and key's limits: takes its place (as
 * `takePlace`) and gives it back at once. The numbers for its rate-limit headers: what is left once its place is given
 * back (`RateLease.releasedInfo`: no store round trip; the acquire's own numbers from a limiter that cannot say).
 */
export async function countRequest(
  stores: GatewayStores | undefined,
  principal: Principal,
  log: (message: string, error: unknown) => void,
  renewals?: Renewals | undefined,
): Promise<RateLimitInfo | undefined> {
  const taken = await acquirePlace(stores, principal, log);
  if (!taken) return undefined;
  await releasePlace(taken.lease, log, renewals, principal.tenantId);
  return taken.lease.releasedInfo?.() ?? taken.info;
}

/** `takePlace`'s and `countRequest`'s acquire (no tokens): undefined when there is nothing to take or the store failed (logged). */
async function acquirePlace(stores: GatewayStores | undefined, principal: Principal, log: (message: string, error: unknown) => void) {
  if (!stores || !principal.tenant) return undefined;
  const scopes = rateScopes(principal);
  if (scopes.length === 0) return undefined;
  let decision: RateDecision;
  try {
    decision = await stores.rateLimiter.acquire(scopes, { estimatedTokens: 0 });
  } catch (e) {
    log('taking a rate-limit place for a request that calls no model failed', e);
    return undefined;
  }
  if (!decision.ok) throw rateLimited(decision);
  return { limiter: stores.rateLimiter, scopes, lease: decision.lease, info: decision.info };
}

/** Gives back a place taken by `acquirePlace` (no tokens); never rejects: a failure is logged and left to `renewals`. */
function releasePlace(lease: RateLease, log: (message: string, error: unknown) => void, renewals: Renewals | undefined, tenantId: string): Promise<void> {
  return releaseOrRetry(lease, 0, renewals, `the rate-limit place of a request of tenant "${tenantId}" that calls no model`).catch((e: unknown) => log('releasing the rate-limit place of a request that calls no model failed', e));
}

/**
 * Releases `lease` (`tokens` used); one that fails (the limiter's store unreachable, a connection reset) is tried
 * again by `renewals` until it succeeds (`Renewals.retry`; a lease's release is idempotent), so its concurrency slot
 * is not held until the lease's TTL (10 minutes). Rejects with the failure. The retry holds the lease and the count
 * only (not the request of the caller's closure).
 */
export async function releaseOrRetry(lease: RateLease, tokens: number, renewals: Renewals | undefined, label?: string): Promise<void> {
  try {
    await lease.release(tokens);
  } catch (e) {
    renewals?.retry(() => lease.release(tokens), label);
    throw e;
  }
}

/**
 * What `limiter` says is left for `scopes` once a call gave its lease back (`Admission.finalInfo` of a lease without
 * `releaseAndPeek`); undefined when the read fails (logged), never rejects. (Async: a custom limiter's peek that throws
 * synchronously is handled as one that rejects.)
 */
function readLeft(limiter: RateLimiter, scopes: RateScope[], log: AdmitInput['log'], requestId: string): Promise<RateLimitInfo | undefined> {
  return (async () => limiter.peek(scopes))().catch((e: unknown) => {
    log?.('reading the rate limits left after a call failed', requestId, e);
    return undefined;
  });
}

/** Names a call in `Renewals.retry`'s give-up log: its request id and tenant (as a prefetch charge's label does). */
function callLabel(requestId: string, tenantId: string): string {
  return `call ${requestId} (tenant "${tenantId}")`;
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
 * `retryAfterMs` (limits) or 402 `budget_exceeded` (budget); a refused request holds nothing. A call that may be
 * answered from the caches (`servesFromCache`) is not refused by the budget: it is admitted cache-only.
 */
export async function admit(input: AdmitInput): Promise<Admission> {
  const { stores, principal } = input;
  if (!stores || !principal.tenant) return NOTHING;
  const tenant = principal.tenant;
  // Stops waiting for a store when the client goes away (checked by the gateway's interval; see `Renewals`): a
  // store on the network (shared mode: Redis) can stall; the in-process ones (memory, SQLite) answer in the same
  // turn or at their group commit, so they are not wrapped (two promises and a set entry less per call).
  // (No closure made per call for them: the callbacks below are made only in shared mode.)
  const waiting = input.renewals && stores.mode === 'shared' ? input.renewals : undefined;

  let lease: RateLease | undefined;
  let rateInfo: RateLimitInfo | undefined;
  const scopesOf = rateScopes(principal);
  let inputTokens: number | undefined = input.inputTokens;
  const guard = input.guardRouter && !input.noCacheRead && (scopesOf.length > 0 || tenant.budget) ? await semanticGuardOf(input.guardRouter, input.request, tenant.id) : undefined;
  if (scopesOf.length > 0) {
    inputTokens ??= estimateInputTokens(input.request);
    // Every call the router may make for it (a cascade's two, the guard calls), each at most what a candidate can
    // answer: a `maxTokens` above every candidate's `maxOutputTokens` counts at the largest.
    const estimatedTokens = (input.billedCalls ?? 1) * estimateRequestTokenBound(input.request, input.candidates, inputTokens, input.rateLimitOutputTokens, input.steps, guard);
    const acquiring = stores.rateLimiter.acquire(scopesOf, { estimatedTokens });
    const decision = waiting
      ? await waiting.waitFor(acquiring, input.signal, (late) => {
          if (late.ok) void releaseOrRetry(late.lease, 0, input.renewals, callLabel(input.requestId, tenant.id)).catch(() => undefined);
        })
      : await acquiring;
    if (!decision.ok) throw rateLimited(decision);
    lease = decision.lease;
    rateInfo = decision.info;
  }

  let reservationId: string | undefined;
  /** One call's worst case, as reserved. */
  let callUsd = 0;
  let cacheOnly: LLMError | undefined;
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
      const reservation: BudgetReserveRequest = { tenantId: tenant.id, period: tenant.budget.period, limitUsd: tenant.budget.amountUsd, estimateUsd, reservationId: id, ledgerId: input.requestId };
      // (Set apart: no object spread per call.)
      if (input.arrivedAt !== undefined) reservation.at = input.arrivedAt;
      const reserving = stores.budgets.reserve(reservation);
      const r = waiting
        ? await waiting.waitFor(reserving, input.signal, (late) => {
            if (late.ok) void settled(() => stores.budgets.release(id)).catch(() => undefined);
          })
        : await reserving;
      if (!r.ok) {
        const refusal = new LLMError({
          code: 'budget_exceeded',
          message: `Budget of tenant "${tenant.id}" for ${r.periodKey} is exhausted: $${r.remainingUsd.toFixed(6)} of $${r.limitUsd} left, this request may cost up to $${estimateUsd.toFixed(6)}`,
          param: 'model',
          // The request took its place under the limits before the refusal: its headers count the request (rpm), not
          // the slot nor the tokens it gives back when it is answered (at once below): the limiter's numbers once the
          // lease is given back (no store round trip). A cache-only call's 402, sent after its lookup and its `finish`,
          // says what the limiter says then (`Admission.left`); these are its fallback.
          ...(rateInfo ? { details: { rateInfo: lease?.releasedInfo?.() ?? rateInfo } } : {}),
        });
        // A cached answer costs nothing: the call keeps its place under the limits and looks in the caches only.
        if (!input.servesFromCache) throw refusal;
        cacheOnly = refusal;
      } else {
        reservationId = id;
        callUsd = estimateUsd;
      }
    } catch (e) {
      // The refusal (or the store's failure) is what the client gets; a release that fails too is tried again.
      if (lease) await releaseOrRetry(lease, 0, input.renewals, callLabel(input.requestId, tenant.id)).catch(() => undefined);
      throw e;
    }
  }

  // Only what can expire is renewed: a concurrency lease (a lease without one holds nothing) and a reservation.
  const held = input.renewals && (reservationId !== undefined || (lease && holdsConcurrency(scopesOf))) ? input.renewals.add(lease, reservationId) : undefined;
  // Only a call with a reservation extends it (none made for the others). Kept apart from this closure, which holds the
  // whole request: the router holds the hook made of it (`beforeAttemptAfterSpend`) as long as the call's options, and
  // a closure made here kept the call's request and plan alive with it (more bytes promoted per young-generation GC,
  // 15-19% more CPU per budgeted JSON call: see `spendHook` in calls/model-call.ts).
  const extension = reservationId === undefined ? undefined : new Extension(stores, tenant.id, tenant.budget!, reservationId, callUsd, rateInfo, input.arrivedAt, held, waiting, input.signal);
  const admission = new Admitted(rateInfo, stores, tenant.id, input.requestId, scopesOf, lease, reservationId, extension, held, input.renewals, input.log);
  // (Set apart: no object spread per call for fields most calls never have.)
  if (extension) admission.extend = extension.extend;
  if (cacheOnly) admission.cacheOnly = cacheOnly;
  if (lease) admission.left = Admitted.prototype.peekLeft;
  return admission;
}

/**
 * An admitted call's `Admission`: what its `finish` gives back, held as fields (its methods on the prototype: no
 * closures made per call), not as a closure over `admit`'s input, which holds the whole request.
 */
class Admitted implements Admission {
  // (Declared only: set when the call has them, as own fields of the calls that do; no field made for the others.)
  declare finalInfo?: RateLimitInfo;
  declare extend?: (billedUsd: number) => Promise<void>;
  declare cacheOnly?: LLMError;
  declare left?: () => Promise<RateLimitInfo>;
  private done = false;

  constructor(
    readonly rateInfo: RateLimitInfo | undefined,
    private readonly stores: GatewayStores,
    private readonly tenantId: string,
    private readonly requestId: string,
    private readonly scopes: RateScope[],
    private readonly lease: RateLease | undefined,
    private readonly reservationId: string | undefined,
    private readonly extension: Extension | undefined,
    private readonly held: Held | undefined,
    private readonly renewals: Renewals | undefined,
    private readonly log: AdmitInput['log'],
  ) {}

  /** `left` of a call that took a place under the limits (set as its own `left`: one function for every call). */
  peekLeft(): Promise<RateLimitInfo> {
    return this.stores.rateLimiter.peek(this.scopes);
  }

  async finish({ usage, costUsd, charged, read }: { usage: Usage | undefined; costUsd: number; charged: boolean; read?: FinishRead | undefined }): Promise<void> {
    if (this.done) return;
    this.done = true;
    const { extension, lease } = this;
    if (extension) extension.end();
    if (this.held) this.renewals!.remove(this.held);
    if (this.reservationId === undefined && !lease) return;
    // The counts as the ledger takes them (an upstream's negative or NaN count is 0), so the slot is freed.
    const counts = lease && usage ? ledgerCounts(usage) : undefined;
    // What is left is read by the lease's release (`releaseAndPeek`, the built-in limiters'), else by a peek after it.
    const peek = read && lease && !lease.releaseAndPeek ? readLeft.bind(undefined, this.stores.rateLimiter, this.scopes, this.log, this.requestId) : undefined;
    const left = new Holdings(this.stores.budgets, this.reservationId, charged, costUsd, extension?.extensions, lease, counts ? counts.inputTokens + counts.outputTokens : 0, read, peek);
    const error = await left.attempt();
    if (left.info) this.finalInfo = left.info;
    if (error === undefined) return;
    // (A bound method: the retry holds only what is left.)
    this.renewals?.retry(left.again.bind(left), callLabel(this.requestId, this.tenantId));
    throw error;
  }
}

/**
 * A budgeted call's extensions of its reservation (`Admission.extend`): what its failed attempts were billed, what the
 * reservation and its extensions hold, the extensions held. Holds the call's tenant, ids and numbers only, not its request.
 */
class Extension {
  /** Set by `end` (the call's `finish`): nothing more is reserved (an extension granted meanwhile is released). */
  private done = false;
  /** The extensions held (made when the first is). */
  extensions: string[] | undefined;
  /** What failed attempts were billed so far. */
  private billedUsd = 0;
  /** What the reservation and its extensions hold. */
  private reservedUsd: number;
  private count = 0;
  /** `Admission.extend` (bound: the router may call it unbound). */
  readonly extend = (billed: number): Promise<void> => this.run(billed);

  constructor(
    private readonly stores: GatewayStores,
    private readonly tenantId: string,
    private readonly budget: { period: BudgetPeriod; amountUsd: number },
    private readonly reservationId: string,
    /** One call's worst case, as reserved. */
    private readonly callUsd: number,
    private rateInfo: RateLimitInfo | undefined,
    private readonly arrivedAt: number | undefined,
    private held: Held | undefined,
    /** Set in shared mode: a store on the network is waited for only while the client is there (`Renewals.waitFor`). */
    private renewals: Renewals | undefined,
    private signal: AbortSignal | undefined,
  ) {
    this.reservedUsd = callUsd;
  }

  /**
   * The call finished: nothing more is reserved, and what belongs to the call alone is let go (the router may hold the
   * hook, and so this, a while longer: measured, what it held was promoted to the old generation).
   */
  end(): void {
    this.done = true;
    this.held = undefined;
    this.renewals = undefined;
    this.signal = undefined;
    this.rateInfo = undefined;
  }

  private async run(billed: number): Promise<void> {
    if (this.done || !(billed > 0)) return;
    this.billedUsd += billed;
    const missing = this.billedUsd + this.callUsd - this.reservedUsd;
    if (missing <= 0) return;
    const budgets = this.stores.budgets;
    // (Numbered when asked, so two extensions asked at once, by hedged attempts, never share an id.)
    const id = `${this.reservationId}+${++this.count}`;
    this.reservedUsd += missing;
    const reserving = budgets.reserve({ tenantId: this.tenantId, period: this.budget.period, limitUsd: this.budget.amountUsd, estimateUsd: missing, reservationId: id, ...(this.arrivedAt !== undefined ? { at: this.arrivedAt } : {}) });
    const r = this.renewals
      ? await this.renewals.waitFor(reserving, this.signal, (late) => {
          if (late.ok) void settled(() => budgets.release(id)).catch(() => undefined);
        })
      : await reserving;
    if (!r.ok) {
      this.reservedUsd -= missing;
      throw new LLMError({
        code: 'budget_exceeded',
        message: `Budget of tenant "${this.tenantId}" for ${r.periodKey} is exhausted: $${r.remainingUsd.toFixed(6)} of $${r.limitUsd} left; failed attempts were billed $${this.billedUsd.toFixed(6)} for the tokens their provider reported, and a further attempt may cost up to $${this.callUsd.toFixed(6)}`,
        param: 'model',
        // The admission's numbers: the fallback of the 402's headers, which say what the limiter says once the call
        // gave its place back (`Admission.left`, after its `finish`).
        ...(this.rateInfo ? { details: { rateInfo: this.rateInfo } } : {}),
      });
    }
    // Finished meanwhile (the call ended while the store answered): nothing more to hold.
    if (this.done) {
      void settled(() => budgets.release(id)).catch(() => undefined);
      return;
    }
    (this.extensions ??= []).push(id);
    if (this.held) this.held.extensions = this.extensions;
  }
}

/**
 * What a call's `finish` has left to give back: its budget reservation (settled or released) and the extensions of it,
 * its concurrency lease (released, the token charge corrected). A part that fails (its store unreachable, a connection
 * reset) is left, and tried again by `Renewals.retry` until it is done (each part is idempotent: the budget's by
 * reservation id, the lease's once it has run), so neither a concurrency slot stays taken nor a cost uncharged until
 * the stores' TTL. Kept apart from `admit`'s closure, which holds the whole request.
 */
class Holdings {
  constructor(
    private readonly budgets: BudgetStore,
    /** Undefined once settled or released (or when the call had none). */
    private reservationId: string | undefined,
    private readonly charged: boolean,
    private readonly costUsd: number,
    private extensions: string[] | undefined,
    /** Undefined once released (or when the call had none). */
    private lease: RateLease | undefined,
    private readonly tokens: number,
    /** Set when what is left is wanted once the lease is given back (`Admission.finish`'s `read`). */
    private read: FinishRead | undefined,
    /**
     * With `read`, for a lease without `releaseAndPeek`: the limiter's peek after the release (never rejects: undefined
     * when it failed, logged).
     */
    private peek: (() => Promise<RateLimitInfo | undefined>) | undefined,
  ) {}

  /** What the limiter said was left once the lease was given back (with `peek`, on the first attempt that released it). */
  info: RateLimitInfo | undefined;

  /** Does what is left; resolves with the first failure (no array of errors per call), undefined when all is done. */
  async attempt(): Promise<unknown> {
    let failed = false;
    let error: unknown;
    if (this.reservationId !== undefined) {
      try {
        if (this.charged) await this.budgets.settle(this.reservationId, this.costUsd);
        else await this.budgets.release(this.reservationId);
        this.reservationId = undefined;
      } catch (e) {
        failed = true;
        error = e;
      }
    }
    // The extensions go only after the cost is settled: released first, the budget would for a moment count less
    // than the call holds, and a concurrent request could take what the settlement then charges.
    if (this.reservationId === undefined && this.extensions) {
      let left: string[] | undefined;
      for (const id of this.extensions) {
        try {
          await this.budgets.release(id);
        } catch (e) {
          (left ??= []).push(id);
          if (!failed) {
            failed = true;
            error = e;
          }
        }
      }
      this.extensions = left;
    }
    if (this.lease) {
      try {
        const lease = this.lease;
        if (this.read && lease.releaseAndPeek) {
          this.info = await lease.releaseAndPeek(this.tokens, this.read === 'fresh');
        } else {
          await lease.release(this.tokens);
        }
        this.lease = undefined;
        // A limiter whose leases cannot say: its peek (a read that fails leaves the headers at the admission's numbers,
        // logged; the release is done: nothing to try again).
        if (this.peek) this.info = await this.peek();
      } catch (e) {
        if (!failed) {
          failed = true;
          error = e;
        }
      }
    }
    // Read for the reply's headers on the first attempt only: a retry (`again`) is a plain release, its reply long sent.
    this.read = undefined;
    this.peek = undefined;
    return failed ? (error ?? new Error('finishing the call failed')) : undefined;
  }

  /** One more try (`Renewals.retry`): rejects with the first failure while something is left. */
  async again(): Promise<void> {
    const error = await this.attempt();
    if (error !== undefined) throw error;
  }
}
