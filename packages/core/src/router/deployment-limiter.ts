import type { ModelConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { gcraAdjust, gcraCheck, gcraRebase, type GcraState } from '../tenancy/gcra.js';
import { countsAgainstDeployment } from './resilience/classify.js';

export type DeploymentLimits = NonNullable<ModelConfig['limits']>;

/** Why a deployment cannot take a call now, and how long until it could. */
export interface Saturation {
  reason: string;
  retryAfterMs: number;
}

/** Wait suggested for a concurrency slot while the deployment has no measured latency yet. */
export const CONCURRENCY_RETRY_MS = 1_000;

/**
 * In-memory admission control for one deployment's `limits`: `maxConcurrency` (attempts in flight),
 * `rpm` and `tpm` (GCRA over one minute, the same arithmetic as the tenant rate limiter). Every call is
 * synchronous; a charge allocates one small bucket state.
 *
 * tpm is charged at admission with an estimate (prompt + expected output) and corrected to the real
 * `usage.totalTokens` when the attempt succeeds; a failed or abandoned attempt keeps its charge.
 */
export class DeploymentLimiter {
  /** Attempts admitted and not yet ended. */
  inFlight = 0;
  private rpm: GcraState | undefined;
  private tpm: GcraState | undefined;

  constructor(
    public limits: DeploymentLimits,
    private readonly now: () => number,
  ) {}

  /** A limiter when `limits` sets anything, else undefined (no bookkeeping at all). */
  static for(limits: DeploymentLimits | undefined, now: () => number): DeploymentLimiter | undefined {
    if (!limits || (limits.rpm === undefined && limits.tpm === undefined && limits.maxConcurrency === undefined)) return undefined;
    return new DeploymentLimiter(limits, now);
  }

  /**
   * Undefined when an attempt charging `tokens` could start now; else why not and when it could (the
   * latest of the blocking limits). `typicalLatencyMs` (the deployment's EWMA) guesses when a
   * concurrency slot frees up.
   */
  check(tokens: number, typicalLatencyMs: number | undefined): Saturation | undefined {
    const { rpm, tpm, maxConcurrency } = this.limits;
    let reason: string | undefined;
    let wait = 0;
    if (maxConcurrency !== undefined && this.inFlight >= maxConcurrency) {
      reason = `at its concurrency limit (${this.inFlight}/${maxConcurrency} in flight)`;
      wait = Math.max(1, Math.round(typicalLatencyMs ?? CONCURRENCY_RETRY_MS));
    }
    if (rpm === undefined && (tpm === undefined || tokens <= 0)) return reason === undefined ? undefined : { reason, retryAfterMs: wait };
    const now = this.now();
    // A clock stepped back: the buckets drain from now on (see `gcraRebase`).
    this.rpm = gcraRebase(this.rpm, now);
    this.tpm = gcraRebase(this.tpm, now);
    if (rpm !== undefined) {
      const c = gcraCheck(this.rpm, now, rpm, 1);
      if (!c.conforms) {
        const ms = Math.ceil(c.retryAfterMs);
        reason = join(reason, `rpm limit ${rpm} reached (a request frees up in ~${ms} ms)`);
        wait = Math.max(wait, ms);
      }
    }
    if (tpm !== undefined && tokens > 0) {
      const c = gcraCheck(this.tpm, now, tpm, tokens);
      if (!c.conforms) {
        const ms = Math.ceil(c.retryAfterMs);
        reason = join(reason, `tpm limit ${tpm}: ~${tokens} more tokens do not fit (room in ~${ms} ms)`);
        wait = Math.max(wait, ms);
      }
    }
    return reason === undefined ? undefined : { reason, retryAfterMs: wait };
  }

  /** Admits an attempt that `check` allowed: takes a slot, charges one request and `tokens`. */
  take(tokens: number): void {
    this.inFlight++;
    const { rpm, tpm } = this.limits;
    if (rpm === undefined && (tpm === undefined || tokens <= 0)) return;
    const now = this.now();
    if (rpm !== undefined) this.rpm = gcraCheck(this.rpm, now, rpm, 1).next;
    if (tpm !== undefined && tokens > 0) this.tpm = gcraCheck(this.tpm, now, tpm, tokens).next;
  }

  /** An attempt ended: frees its slot; with `actualTokens` (real usage) corrects the tpm charge. */
  release(charged: number, actualTokens?: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const tpm = this.limits.tpm;
    if (tpm === undefined || actualTokens === undefined || !Number.isFinite(actualTokens) || actualTokens === charged) return;
    this.tpm = gcraAdjust(this.tpm, this.now(), tpm, actualTokens - charged);
  }
}

function join(a: string | undefined, b: string): string {
  return a === undefined ? b : `${a}; ${b}`;
}

const LOCAL_LIMIT = new WeakSet<LLMError>();

/**
 * The error of an attempt skipped because its deployment is saturated (no request was sent). `details.tenant` is
 * the deployment's owner (a tenant's own model), so a caller that may not see its traffic can be told less.
 */
export function deploymentLimitError(name: string, provider: string, s: Saturation, tenant?: string): LLMError {
  const e = new LLMError({
    code: 'rate_limited',
    message: `Deployment "${name}" is saturated: ${s.reason}`,
    retryAfterMs: s.retryAfterMs,
    deployment: name,
    provider,
    details: tenant === undefined ? { limit: 'deployment', reason: s.reason } : { limit: 'deployment', reason: s.reason, tenant },
  });
  LOCAL_LIMIT.add(e);
  return e;
}

/**
 * A retryable failure of a request a deployment was sent: a health failure (counted against it) or the model's failed
 * answer (`modelFault`). What the call reports over a `circuit_open` or a refusal of the request next to it.
 */
function isServedFailure(e: LLMError): boolean {
  return e.isRetryable && (e.modelFault || countsAgainstDeployment(e));
}

/** True for errors made by `deploymentLimitError`. */
export function isDeploymentLimitError(e: LLMError): boolean {
  return LOCAL_LIMIT.has(e);
}

/**
 * The error to report after `next` failed too: the newest one, except that a `circuit_open` refusal (no request sent)
 * does not replace an earlier health failure (retryable, counting against its deployment: the provider's error that
 * made the call fall over says more) nor an earlier retryable failure of the model's answer (`modelFault`: a Gemini
 * failed tool call, which the client should see, not the skipped fallback's circuit state), and that of two local limit errors the one that frees up first is kept (it says
 * when to come back). After an earlier refusal of this request (`context_length_exceeded`, `unsupported`, or another
 * error that is not a retryable health failure) the open deployment is the one that could have answered: the
 * `circuit_open` (retryable) is reported, with that error as its `cause`; so too in the other order: such a refusal by
 * a later deployment replaces neither an earlier `circuit_open` (which takes it as its `cause`) nor an earlier retryable
 * health failure. A `no_deployment` (a deployment retired after the call planned it: nothing was tried there) never
 * replaces an earlier error.
 */
export function laterError(last: LLMError | undefined, next: LLMError): LLMError {
  if (last && next.code === 'no_deployment') return last;
  if (last && next.code === 'circuit_open') {
    if (isServedFailure(last)) return last;
    return next.cause === undefined ? next.with({ cause: last }) : next;
  }
  // The same in the other order: an open (or failing: a forced probe's) deployment, then a refusal of this request by
  // the next one. The first could have answered: the call is retried, not given up as if its request were at fault.
  if (last && !isServedFailure(next)) {
    if (last.code === 'circuit_open') return last.cause === undefined ? last.with({ cause: next }) : last;
    if (isServedFailure(last)) return last;
  }
  if (last && LOCAL_LIMIT.has(last) && LOCAL_LIMIT.has(next) && (last.retryAfterMs ?? 0) <= (next.retryAfterMs ?? 0)) return last;
  return next;
}
